/**
 * Objects through the server's `/objects` routes (Shoal addition): the server checks ownership, so a
 * client never needs the object store's credentials. `oss://` and `s3://` URIs name the same objects.
 */
import { AdminClient } from './admin.js';
import type { ListObjectsOptions } from './paging.js';
import { objectPath, resourcePath } from './query.js';
import { splitObjectUri } from './uri.js';
import type { ObjectHead, WireObjectList, WireObjectSummary, WirePresigned } from './wire-extra.js';

/** Progress of an upload or download. */
export interface TransferProgress {
  /** Bytes moved so far. */
  loadedBytes: number;
  /** Size of the whole object; undefined when the server did not say (download without length). */
  totalBytes: number | undefined;
}

/** Options of {@link ObjectClient.uploadFile} and {@link ObjectClient.downloadObject}. */
export interface TransferOptions {
  onProgress?: (progress: TransferProgress) => void;
  signal?: AbortSignal;
}

/** Options of {@link ObjectClient.presignObject}. */
export interface PresignOptions {
  /** What the URL allows: GET (default) or PUT. */
  method?: 'GET' | 'PUT';
  /** Lifetime of the URL in seconds (default 300). */
  expiresSec?: number;
}

/** What {@link ObjectClient.uploadFile} accepts: a local path (Node only), a Blob/File, or bytes. */
export type UploadSource = string | Blob | Uint8Array;

// Kept out of a literal import so that bundlers building the browser console do not pull node:fs in.
const NODE_FS = 'node:fs/promises';

async function sourceBytes(source: UploadSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (typeof source !== 'string') return new Uint8Array(await source.arrayBuffer());
  const fs = (await import(NODE_FS)) as { readFile(path: string): Promise<Uint8Array> };
  const data = await fs.readFile(source);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Object operations and whoami/admin; use {@link ShoalClient}. */
export class ObjectClient extends AdminClient {
  /** Stores an object (`oss://` or `s3://` URI) through the server. @example await client.putObject('oss://shoal/in/a.txt', 'hello') */
  async putObject(uri: string, body: Uint8Array | string): Promise<void> {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    await this.send({ method: 'PUT', path: objectPath(uri), bytes });
  }

  /**
   * Uploads a local file (Node: a path), a Blob/File (browser) or bytes, reporting progress.
   * @example await client.uploadFile('oss://shoal/in/data.csv', './data.csv', { onProgress: (p) => console.log(p.loadedBytes) })
   */
  async uploadFile(uri: string, source: UploadSource, options: TransferOptions = {}): Promise<void> {
    const path = objectPath(uri);
    const bytes = await sourceBytes(source);
    const total = bytes.byteLength;
    options.onProgress?.({ loadedBytes: 0, totalBytes: total });
    await this.send({
      method: 'PUT',
      path,
      bytes,
      signal: options.signal,
      onUploadProgress: (sent) => options.onProgress?.({ loadedBytes: sent, totalBytes: total }),
    });
  }

  /** Reads a whole object. @example const text = new TextDecoder().decode(await client.getObject('oss://shoal/out/result.txt')) */
  async getObject(uri: string): Promise<Uint8Array> {
    return (await this.transport.request({ method: 'GET', path: objectPath(uri) })).body;
  }

  /**
   * Reads a whole object as it streams in, reporting progress.
   * @example const bytes = await client.downloadObject('oss://shoal/out/big.bin', { onProgress: (p) => bar.update(p) })
   */
  async downloadObject(uri: string, options: TransferOptions = {}): Promise<Uint8Array> {
    const response = await this.transport.open({
      method: 'GET',
      path: objectPath(uri),
      signal: options.signal,
    });
    const length = response.headers.get('content-length');
    const total = length === null ? undefined : Number(length);
    const chunks: Uint8Array[] = [];
    let loaded = 0;
    options.onProgress?.({ loadedBytes: 0, totalBytes: total });
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.byteLength;
        options.onProgress?.({ loadedBytes: loaded, totalBytes: total });
      }
    }
    const out = new Uint8Array(loaded);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }

  /** Size and metadata of an object; throws code InvalidResource.NotFound when absent. @example const { size } = await client.headObject(uri) */
  async headObject(uri: string): Promise<ObjectHead> {
    const { headers } = await this.transport.request({ method: 'HEAD', path: objectPath(uri) });
    return {
      size: Number(headers.get('content-length') ?? '0'),
      lastModified: headers.get('last-modified') ?? '',
      contentType: headers.get('content-type') ?? '',
      etag: headers.get('etag') ?? '',
    };
  }

  /** Deletes an object. @example await client.deleteObject('oss://shoal/tmp/x') */
  async deleteObject(uri: string): Promise<void> {
    await this.send({ method: 'DELETE', path: objectPath(uri) });
  }

  /**
   * A short-lived URL for an object (S3 backend); the local backend answers UnsupportedOperation.
   * @example const { Url } = await client.presignObject('oss://shoal/out/r.txt', { method: 'GET', expiresSec: 60 })
   */
  presignObject(uri: string, options: PresignOptions = {}): Promise<WirePresigned> {
    return this.json({
      method: 'POST',
      path: objectPath(uri),
      query: { presign: '', Method: options.method ?? 'GET', Expires: options.expiresSec ?? 300 },
      retry: true,
    });
  }

  /** One page of the objects under a prefix URI. @example await client.listObjects('oss://shoal/logs/', { delimiter: '/' }) */
  async listObjects(prefixUri: string, options: ListObjectsOptions = {}): Promise<WireObjectList> {
    const { bucket, key } = splitObjectUri(prefixUri);
    const query = {
      Prefix: key === '' ? undefined : key,
      Delimiter: options.delimiter,
      Marker: options.marker,
      MaxItemCount: options.maxItemCount,
    };
    const page = await this.json<WireObjectList | undefined>({
      method: 'GET',
      path: resourcePath('objects', bucket),
      query,
    });
    return {
      NextMarker: String(page?.NextMarker ?? ''),
      Items: page?.Items ?? [],
      Prefixes: page?.Prefixes ?? [],
    };
  }

  /**
   * Every object under a prefix URI, page after page.
   * @example for await (const o of client.objects('oss://shoal/logs/')) console.log(o.Key, o.Size)
   */
  async *objects(
    prefixUri: string,
    options: Omit<ListObjectsOptions, 'marker'> = {},
  ): AsyncGenerator<WireObjectSummary, void, undefined> {
    let marker: string | undefined;
    const seen = new Set<string>();
    for (;;) {
      const page = await this.listObjects(prefixUri, { ...options, marker });
      yield* page.Items;
      if (!page.NextMarker || seen.has(page.NextMarker)) return;
      seen.add(page.NextMarker);
      marker = page.NextMarker;
    }
  }
}
