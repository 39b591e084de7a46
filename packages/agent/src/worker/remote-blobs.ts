/**
 * The object store as a remote agent sees it: the server's worker object routes, which let a worker
 * reach only the objects of the attempts it holds. The agent never holds the object store's own
 * credentials. Bytes are streamed both ways, never held whole in memory.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { BlobStore, ListObjectsOptions, ListObjectsPage, ObjectInfo, ObjectUri } from '@shoal/core';
import { formatObjectUri, ShoalError } from '@shoal/core';
import { downloadPrefixVia, uploadDirectoryVia, writeFileAtomically } from '@shoal/blobs';
import type { WorkerClient } from '@shoal/sdk';

const CONCURRENCY = 4;

function bodyStream(body: Buffer | string | Readable): () => ReadableStream<Uint8Array> {
  if (body instanceof Readable) {
    // A stream can be sent once: a retry of the request would send nothing.
    let used = false;
    return () => {
      if (used) throw new Error('the upload stream was already sent');
      used = true;
      return Readable.toWeb(body) as unknown as ReadableStream<Uint8Array>;
    };
  }
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return () => new Blob([bytes]).stream();
}

export class RemoteBlobStore implements BlobStore {
  readonly kind = 'worker' as const;

  constructor(private readonly client: WorkerClient) {}

  async putObject(uri: ObjectUri, body: Buffer | string | Readable): Promise<void> {
    await this.client.putObject(formatObjectUri(uri), bodyStream(body));
  }

  async getObject(uri: ObjectUri, range?: { start: number; end?: number }): Promise<Readable> {
    if (range) throw new ShoalError('UnsupportedOperation', 'ranged reads are not offered to workers');
    const response = await this.client.openObject(formatObjectUri(uri));
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>);
  }

  async readObject(uri: ObjectUri): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.getObject(uri)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async headObject(uri: ObjectUri): Promise<ObjectInfo | undefined> {
    const head = await this.client.headObject(formatObjectUri(uri));
    return head ? { key: uri.key, size: head.size, lastModifiedMs: head.lastModifiedMs } : undefined;
  }

  deleteObject(): Promise<void> {
    return Promise.reject(new ShoalError('UnsupportedOperation', 'workers do not delete objects'));
  }

  deletePrefix(): Promise<number> {
    return Promise.reject(new ShoalError('UnsupportedOperation', 'workers do not delete objects'));
  }

  async listObjects(prefix: ObjectUri, options: ListObjectsOptions = {}): Promise<ListObjectsPage> {
    const page = await this.client.listObjects(formatObjectUri(prefix), {
      ...(options.delimiter ? { delimiter: options.delimiter } : {}),
      ...(options.marker ? { marker: options.marker } : {}),
      ...(options.limit ? { maxItemCount: options.limit } : {}),
    });
    return {
      objects: page.Items.map((o) => ({
        key: o.Key,
        size: o.Size,
        lastModifiedMs: Date.parse(o.LastModified),
      })),
      prefixes: page.Prefixes,
      nextMarker: page.NextMarker || undefined,
    };
  }

  async uploadFile(localPath: string, uri: ObjectUri): Promise<void> {
    await stat(localPath); // a missing file fails here, not halfway through a request
    await this.client.putObject(
      formatObjectUri(uri),
      () => Readable.toWeb(createReadStream(localPath)) as unknown as ReadableStream<Uint8Array>,
    );
  }

  async downloadFile(uri: ObjectUri, localPath: string): Promise<void> {
    await writeFileAtomically(path.resolve(localPath), { body: await this.getObject(uri) });
  }

  uploadDirectory(localDir: string, prefix: ObjectUri): Promise<number> {
    return uploadDirectoryVia(this, localDir, prefix, CONCURRENCY);
  }

  downloadPrefix(prefix: ObjectUri, localDir: string): Promise<number> {
    return downloadPrefixVia(this, prefix, localDir, CONCURRENCY);
  }
}
