/**
 * Every default of the blobs package, in one place so adapters and the factory cannot drift apart.
 */
export const BLOB_DEFAULTS = Object.freeze({
  /** Largest page `listObjects` returns, and the page size when none is asked for (S3's own cap). */
  listLimit: 1000,
  /** Multipart part size; S3 requires at least 5 MiB for every part but the last. */
  partSizeBytes: 8 * 1024 * 1024,
  /** Parts of one multipart upload in flight at once. */
  partQueueSize: 4,
  /** Files moved at once by uploadDirectory / downloadPrefix. */
  transferConcurrency: 4,
  /** Keys per DeleteObjects request (the S3 maximum). */
  deleteBatchSize: 1000,
  /** Local backend: per-bucket directory for in-flight writes, hidden from listings. */
  localTempDirName: '.shoal-tmp',
});
