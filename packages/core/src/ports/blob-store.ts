import type { Readable } from 'node:stream';
import type { ObjectUri } from '../oss-uri.js';

/** Metadata of one stored object. */
export interface ObjectInfo {
  /** Full key inside the bucket. */
  readonly key: string;
  readonly size: number;
  readonly lastModifiedMs: number;
  readonly etag?: string;
}

export interface ListObjectsOptions {
  /** Group keys by this delimiter after the prefix (usually '/'); unset lists recursively. */
  readonly delimiter?: string;
  /** Opaque continuation token from a previous page. */
  readonly marker?: string;
  /** Page size, 1..1000; default 1000. */
  readonly limit?: number;
}

export interface ListObjectsPage {
  readonly objects: ObjectInfo[];
  /** Common prefixes (full keys ending in the delimiter) when a delimiter was given. */
  readonly prefixes: string[];
  /** Token for the next page; undefined on the last page. */
  readonly nextMarker: string | undefined;
}

/**
 * The BlobStore port: object storage addressed by `oss://` / `s3://` URIs, whatever the backend.
 * Missing objects raise ShoalError `InvalidResource.NotFound`. Keys are never interpreted as local paths
 * outside the backend's root, and downloads never write outside the target directory.
 */
/** How a grouped handle makes its writes durable (see BlobStore.grouped). */
export interface GroupedOptions {
  /** Makes whole filesystems durable, given directories on them; without it, file by file. */
  readonly syncFilesystems?: (dirs: readonly string[]) => Promise<void>;
}

export interface BlobStore {
  readonly kind: 'local' | 's3' | 'worker';
  putObject(uri: ObjectUri, body: Buffer | string | Readable): Promise<void>;
  getObject(uri: ObjectUri, range?: { start: number; end?: number }): Promise<Readable>;
  /** Whole object as a buffer; for small objects (job descriptions, results). */
  readObject(uri: ObjectUri): Promise<Buffer>;
  headObject(uri: ObjectUri): Promise<ObjectInfo | undefined>;
  deleteObject(uri: ObjectUri): Promise<void>;
  /** Deletes every object under a prefix; returns how many. */
  deletePrefix(prefix: ObjectUri): Promise<number>;
  listObjects(prefix: ObjectUri, options?: ListObjectsOptions): Promise<ListObjectsPage>;
  /**
   * Uploads a local file (multipart on S3 when large). `handOver`: the caller never changes the file
   * again, so the local backend may take it over as it is (a hard link) instead of copying its bytes.
   */
  uploadFile(localPath: string, uri: ObjectUri, options?: { readonly handOver?: boolean }): Promise<void>;
  /** Downloads one object to a local file, creating parent directories. */
  downloadFile(uri: ObjectUri, localPath: string): Promise<void>;
  /** Uploads every regular file under `localDir` to `prefix` + relative path; returns the file count. */
  uploadDirectory(localDir: string, prefix: ObjectUri): Promise<number>;
  /** Downloads every object under `prefix` into `localDir` (relative keys); returns the object count. */
  downloadPrefix(prefix: ObjectUri, localDir: string): Promise<number>;
  /**
   * Local backend only: the file or directory holding this URI, so a worker on the same machine can
   * bind it read-only instead of copying. Undefined on remote backends.
   */
  localPathOf?(uri: ObjectUri): string | undefined;
  /**
   * Local backend only: a handle on the same objects whose writes are made durable together, at its
   * `flush()`, rather than one flush per object (a worker's uploads, flushed before their attempts are
   * reported Finished).
   */
  grouped?(options?: GroupedOptions): BlobStore;
  /** Makes durable what this handle wrote without flushing it (a `grouped()` handle); others have nothing to do. */
  flush?(): Promise<void>;
  close?(): Promise<void>;
}
