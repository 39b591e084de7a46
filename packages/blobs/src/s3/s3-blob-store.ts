import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  formatObjectUri,
  notFound,
  type BlobStore,
  type ListObjectsOptions,
  type ListObjectsPage,
  type ObjectInfo,
  type ObjectUri,
} from '@shoal/core';
import { writeFileAtomically } from '../atomic-write.js';
import { BLOB_DEFAULTS } from '../defaults.js';
import { assertObjectKey, assertRange, directoryKey, rangeNotSatisfiable, type ByteRange } from '../keys.js';
import { downloadPrefixVia, listAllKeys, uploadDirectoryVia } from '../transfer.js';
import { isBucketAlreadyMine, isInvalidRange, isMissing, isNoSuchBucket } from './s3-errors.js';
import { listS3Page, toObjectInfo } from './s3-listing.js';

export interface S3BlobStoreOptions {
  /** A ready client (see `createS3Client`); the store uses path-style requests through it. */
  readonly client: S3Client;
  /** Destroy the client on `close()`: true when the store was handed a client nobody else holds. */
  readonly ownsClient?: boolean;
  /** Needed to create buckets outside us-east-1 on AWS. */
  readonly region?: string;
  readonly partSizeBytes?: number;
  readonly partQueueSize?: number;
  readonly transferConcurrency?: number;
}

/** BlobStore over any S3-compatible service; `oss://b/k` and `s3://b/k` are both bucket b, key k. */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly #client: S3Client;
  readonly #options: Required<Omit<S3BlobStoreOptions, 'client' | 'region'>> & { region: string | undefined };
  /** Buckets known to exist; a failed attempt is forgotten so the next write retries it. */
  readonly #buckets = new Map<string, Promise<void>>();

  constructor(options: S3BlobStoreOptions) {
    this.#client = options.client;
    this.#options = {
      ownsClient: options.ownsClient ?? false,
      region: options.region,
      partSizeBytes: options.partSizeBytes ?? BLOB_DEFAULTS.partSizeBytes,
      partQueueSize: options.partQueueSize ?? BLOB_DEFAULTS.partQueueSize,
      transferConcurrency: options.transferConcurrency ?? BLOB_DEFAULTS.transferConcurrency,
    };
  }

  /** Creates `bucket` unless it exists. Idempotent; writes call it once per bucket per store. */
  ensureBucket(bucket: string): Promise<void> {
    let pending = this.#buckets.get(bucket);
    if (pending === undefined) {
      pending = this.#createBucketIfMissing(bucket);
      pending.catch(() => this.#buckets.delete(bucket));
      this.#buckets.set(bucket, pending);
    }
    return pending;
  }

  async putObject(uri: ObjectUri, body: Buffer | string | Readable): Promise<void> {
    assertObjectKey(uri);
    await this.ensureBucket(uri.bucket);
    if (body instanceof Readable) {
      await this.#upload(uri, body); // unknown length: only a multipart upload can take it
    } else {
      // As bytes: the SDK sends no Content-Length for an empty string and warns about it.
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      await this.#client.send(new PutObjectCommand({ Bucket: uri.bucket, Key: uri.key, Body: bytes }));
    }
  }

  async getObject(uri: ObjectUri, range?: ByteRange): Promise<Readable> {
    assertObjectKey(uri);
    if (range !== undefined) assertRange(range);
    const header = range === undefined ? undefined : `bytes=${range.start}-${range.end ?? ''}`;
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: uri.bucket, Key: uri.key, Range: header }),
      );
      if (!(out.Body instanceof Readable))
        throw new Error(`GetObject ${formatObjectUri(uri)} returned no stream`);
      return out.Body;
    } catch (err) {
      if (range !== undefined && isInvalidRange(err)) {
        const info = await this.headObject(uri);
        throw rangeNotSatisfiable(uri, range, info?.size ?? 0);
      }
      throw this.#mapMissing(err, uri);
    }
  }

  async readObject(uri: ObjectUri): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.getObject(uri)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async headObject(uri: ObjectUri): Promise<ObjectInfo | undefined> {
    assertObjectKey(uri);
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: uri.bucket, Key: uri.key }));
      return toObjectInfo(uri.key, out.ContentLength, out.LastModified, out.ETag);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async deleteObject(uri: ObjectUri): Promise<void> {
    assertObjectKey(uri);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: uri.bucket, Key: uri.key }));
    } catch (err) {
      if (!isNoSuchBucket(err)) throw err;
    }
  }

  async deletePrefix(prefix: ObjectUri): Promise<number> {
    const base = { ...prefix, key: directoryKey(prefix.key) };
    let batch: string[] = [];
    let deleted = 0;
    // Deleting keys the listing has already passed is safe: a ListObjectsV2 continuation token is
    // a position in key order, not an offset, so the next page neither skips nor repeats keys.
    for await (const key of listAllKeys(this, base)) {
      batch.push(key);
      if (batch.length === BLOB_DEFAULTS.deleteBatchSize) {
        deleted += await this.#deleteBatch(base.bucket, batch);
        batch = [];
      }
    }
    if (batch.length > 0) deleted += await this.#deleteBatch(base.bucket, batch);
    return deleted;
  }

  /** One page in key order; the marker is the last key or common prefix returned (see listS3Page). */
  listObjects(prefix: ObjectUri, options: ListObjectsOptions = {}): Promise<ListObjectsPage> {
    return listS3Page(this.#client, prefix, options);
  }

  async uploadFile(localPath: string, uri: ObjectUri): Promise<void> {
    assertObjectKey(uri);
    await this.ensureBucket(uri.bucket);
    const { size } = await stat(localPath);
    if (size > this.#options.partSizeBytes) {
      await this.#upload(uri, createReadStream(localPath));
    } else {
      // One request with a known length; also sidesteps lib-storage's handling of empty streams.
      const body = size === 0 ? Buffer.alloc(0) : createReadStream(localPath);
      await this.#client.send(
        new PutObjectCommand({ Bucket: uri.bucket, Key: uri.key, Body: body, ContentLength: size }),
      );
    }
  }

  async downloadFile(uri: ObjectUri, localPath: string): Promise<void> {
    const body = await this.getObject(uri);
    await writeFileAtomically(path.resolve(localPath), { body });
  }

  uploadDirectory(localDir: string, prefix: ObjectUri): Promise<number> {
    return uploadDirectoryVia(this, localDir, prefix, this.#options.transferConcurrency);
  }

  downloadPrefix(prefix: ObjectUri, localDir: string): Promise<number> {
    return downloadPrefixVia(this, prefix, localDir, this.#options.transferConcurrency);
  }

  /** A URL that lets its holder GET the object without credentials until it expires. */
  presignGetUrl(uri: ObjectUri, expiresSec: number): Promise<string> {
    assertObjectKey(uri);
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: uri.bucket, Key: uri.key }), {
      expiresIn: expiresSec,
    });
  }

  /** A URL that lets its holder PUT the object (single request, up to 5 GiB) until it expires. */
  async presignPutUrl(uri: ObjectUri, expiresSec: number): Promise<string> {
    assertObjectKey(uri);
    await this.ensureBucket(uri.bucket);
    return getSignedUrl(this.#client, new PutObjectCommand({ Bucket: uri.bucket, Key: uri.key }), {
      expiresIn: expiresSec,
    });
  }

  async close(): Promise<void> {
    if (this.#options.ownsClient) this.#client.destroy();
  }

  async #upload(uri: ObjectUri, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: uri.bucket, Key: uri.key, Body: body },
      partSize: this.#options.partSizeBytes,
      queueSize: this.#options.partQueueSize,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async #createBucketIfMissing(bucket: string): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    const region = this.#options.region;
    try {
      await this.#client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(region === undefined || region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
        }),
      );
    } catch (err) {
      if (!isBucketAlreadyMine(err)) throw err;
    }
  }

  async #deleteBatch(bucket: string, keys: string[]): Promise<number> {
    const out = await this.#client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = out.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0];
      throw new Error(
        `deleting ${failed.length} of ${keys.length} objects in bucket ${bucket} failed, e.g. ${first?.Key}: ${first?.Code} ${first?.Message}`,
      );
    }
    return keys.length;
  }

  #mapMissing(err: unknown, uri: ObjectUri): unknown {
    return isMissing(err) ? notFound('object', formatObjectUri(uri)) : err;
  }
}
