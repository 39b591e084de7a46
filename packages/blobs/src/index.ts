export { BLOB_DEFAULTS } from './defaults.js';
export { createBlobStore, type BlobStoreOptions } from './options.js';
export { LocalBlobStore, type LocalBlobStoreOptions } from './local/local-blob-store.js';
export { S3BlobStore, type S3BlobStoreOptions } from './s3/s3-blob-store.js';
export { createS3Client, type S3ConnectionOptions } from './s3/s3-client.js';
export { resolveUnder } from './safe-path.js';
export { walkFiles, type WalkedFile, type WalkOptions } from './walk.js';
export { writeFileAtomically, type AtomicSource, type AtomicWriteOptions } from './atomic-write.js';
export { compareKeys, directoryKey, type ByteRange } from './keys.js';
