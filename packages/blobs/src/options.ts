import type { BlobStore } from '@shoal/core';
import { LocalBlobStore } from './local/local-blob-store.js';
import { S3BlobStore } from './s3/s3-blob-store.js';
import { createS3Client, type S3ConnectionOptions } from './s3/s3-client.js';

/** Which backend holds objects; the composition root builds this from its config or env. */
export type BlobStoreOptions =
  { readonly kind: 'local'; readonly root: string } | ({ readonly kind: 's3' } & S3ConnectionOptions);

/** The configured store. The caller owns it and calls `close()` at shutdown. */
export function createBlobStore(options: BlobStoreOptions): BlobStore {
  switch (options.kind) {
    case 'local':
      return new LocalBlobStore({ root: options.root });
    case 's3':
      return new S3BlobStore({ client: createS3Client(options), ownsClient: true, region: options.region });
  }
}
