import { createReadStream, existsSync } from 'node:fs';
import { readFile, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  type GroupedOptions,
  formatObjectUri,
  invalidParameter,
  notFound,
  type BlobStore,
  type ListObjectsOptions,
  type ListObjectsPage,
  type ObjectInfo,
  type ObjectUri,
} from '@shoal/core';
import { syncFiles, writeFileAtomically, type AtomicSource } from '../atomic-write.js';
import { BLOB_DEFAULTS } from '../defaults.js';
import {
  assertListPrefix,
  assertObjectKey,
  assertRange,
  directoryKey,
  rangeNotSatisfiable,
  resolveListLimit,
  type ByteRange,
} from '../keys.js';
import { isInsideOrSame } from '../safe-path.js';
import { downloadPrefixVia, uploadDirectoryVia } from '../transfer.js';
import { isErrno, walkFiles } from '../walk.js';
import { assertLocalKey, LocalLayout } from './local-layout.js';
import { pageKeys } from './local-listing.js';

export interface LocalBlobStoreOptions {
  /** Directory holding one subdirectory per bucket, e.g. `<data-dir>/objects`. */
  readonly root: string;
  readonly transferConcurrency?: number;
  /**
   * Writes are not flushed one by one but when `flush()` is called, all together (grouped durability).
   * For a worker's uploads, which it flushes before it reports the attempts Finished.
   */
  readonly groupedDurability?: boolean;
  /**
   * With grouped durability: makes whole filesystems durable, given directories on them (one syncfs per
   * filesystem, see the agent's FilesystemSync). Without it, a flush syncs each file and directory.
   */
  readonly syncFilesystems?: (dirs: readonly string[]) => Promise<void>;
}

/**
 * BlobStore over a plain directory tree. Objects are ordinary files with no sidecar metadata, so
 * files users copy in by hand are objects too; the etag is derived from size and mtime.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;
  readonly root: string;
  readonly #layout: LocalLayout;
  readonly #concurrency: number;
  readonly #options: LocalBlobStoreOptions;
  /** Written and renamed into place, not yet flushed (grouped durability only). */
  #unflushed: string[] = [];

  constructor(options: LocalBlobStoreOptions) {
    this.#options = options;
    this.#layout = new LocalLayout(options.root);
    this.root = this.#layout.root;
    this.#concurrency = options.transferConcurrency ?? BLOB_DEFAULTS.transferConcurrency;
  }

  /** A handle on the same objects whose writes become durable together, at `flush()`. */
  grouped(options: GroupedOptions = {}): LocalBlobStore {
    return new LocalBlobStore({ ...this.#options, ...options, groupedDurability: true });
  }

  /** Makes everything this handle wrote since the last flush durable, in one group. */
  async flush(): Promise<void> {
    const files = this.#unflushed;
    if (files.length === 0) return;
    this.#unflushed = [];
    try {
      const syncFilesystems = this.#options.syncFilesystems;
      if (syncFilesystems) await syncFilesystems([...new Set(files.map((f) => path.dirname(f)))]);
      else await syncFiles(files);
    } catch (err) {
      // Not durable yet: the next flush tries these again.
      this.#unflushed.push(...files);
      throw err;
    }
  }

  async putObject(uri: ObjectUri, body: Buffer | string | Readable): Promise<void> {
    await this.#write(uri, { body });
  }

  async getObject(uri: ObjectUri, range?: ByteRange): Promise<Readable> {
    const { real, size } = await this.#existingFile(uri);
    if (range === undefined) return createReadStream(real);
    assertRange(range);
    if (range.start >= size) throw rangeNotSatisfiable(uri, range, size);
    return createReadStream(real, { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) });
  }

  async readObject(uri: ObjectUri): Promise<Buffer> {
    return readFile((await this.#existingFile(uri)).real);
  }

  async headObject(uri: ObjectUri): Promise<ObjectInfo | undefined> {
    assertObjectKey(uri);
    const real = await this.#layout.realInside(uri, this.#layout.pathOf(uri));
    if (real === undefined) return undefined;
    const info = await stat(real);
    return info.isFile() ? objectInfo(uri.key, info.size, info.mtimeMs) : undefined;
  }

  async deleteObject(uri: ObjectUri): Promise<void> {
    assertObjectKey(uri);
    const file = this.#layout.pathOf(uri);
    // unlink never follows the final link, but a linked parent directory would redirect it.
    const parent = await this.#layout.realInside(uri, path.dirname(file));
    if (parent === undefined) return;
    try {
      await unlink(path.join(parent, path.basename(file)));
    } catch (err) {
      // Missing, or a directory (a prefix, not an object): there is no object to delete.
      if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR') || isErrno(err, 'EPERM')) return;
      throw err;
    }
    await this.#pruneEmptyDirs(uri.bucket, path.dirname(file));
  }

  async deletePrefix(prefix: ObjectUri): Promise<number> {
    const base = { ...prefix, key: directoryKey(prefix.key) };
    const keys = (await this.#listAll(base)).map((o) => o.key);
    for (const key of keys) await this.deleteObject({ ...base, key });
    return keys.length;
  }

  async listObjects(prefix: ObjectUri, options: ListObjectsOptions = {}): Promise<ListObjectsPage> {
    const limit = resolveListLimit(options.limit);
    const all = await this.#listAll(prefix);
    return pageKeys(all, prefix.key, { limit, delimiter: options.delimiter, marker: options.marker });
  }

  async uploadFile(
    localPath: string,
    uri: ObjectUri,
    options?: { readonly handOver?: boolean },
  ): Promise<void> {
    await this.#write(uri, options?.handOver ? { linkFrom: localPath } : { copyFrom: localPath });
  }

  async downloadFile(uri: ObjectUri, localPath: string): Promise<void> {
    const { real } = await this.#existingFile(uri);
    await writeFileAtomically(path.resolve(localPath), { copyFrom: real });
  }

  uploadDirectory(localDir: string, prefix: ObjectUri): Promise<number> {
    return uploadDirectoryVia(this, localDir, prefix, this.#concurrency);
  }

  downloadPrefix(prefix: ObjectUri, localDir: string): Promise<number> {
    return downloadPrefixVia(this, prefix, localDir, this.#concurrency);
  }

  localPathOf(uri: ObjectUri): string {
    return this.#layout.pathOf(uri);
  }

  async close(): Promise<void> {}

  async #write(uri: ObjectUri, source: AtomicSource): Promise<void> {
    try {
      await this.#writeOnce(uri, source);
    } catch (err) {
      // The bucket's directories went away behind this handle's back (removed by hand): make them again,
      // once, if the bytes can be read again.
      const again = !('body' in source) || !(source.body instanceof Readable);
      if (!isErrno(err, 'ENOENT') || !again || existsSync(this.#layout.tempDir(uri.bucket))) throw err;
      this.#layout.forget(uri.bucket);
      await this.#writeOnce(uri, source);
    }
  }

  async #writeOnce(uri: ObjectUri, source: AtomicSource): Promise<void> {
    assertObjectKey(uri);
    const name = path.basename(this.#layout.pathOf(uri));
    try {
      const parent = await this.#layout.makeParentDirs(uri);
      const grouped = this.#options.groupedDurability === true;
      const target = path.join(parent, name);
      await writeFileAtomically(target, source, {
        tempDir: this.#layout.tempDir(uri.bucket),
        // makeParentDirs made it with the bucket.
        tempDirExists: true,
        sync: !grouped,
      });
      if (grouped) this.#unflushed.push(target);
    } catch (err) {
      if (isErrno(err, 'EISDIR') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EEXIST')) {
        throw invalidParameter(
          'uri',
          formatObjectUri(uri),
          'clashes with an existing object or prefix of the same name (the local backend stores keys as files and directories)',
        );
      }
      throw err;
    }
  }

  async #existingFile(uri: ObjectUri): Promise<{ real: string; size: number }> {
    assertObjectKey(uri);
    const real = await this.#layout.realInside(uri, this.#layout.pathOf(uri));
    const info = real === undefined ? undefined : await stat(real);
    if (real === undefined || !info?.isFile()) throw notFound('object', formatObjectUri(uri));
    return { real, size: info.size };
  }

  /** Every object whose key starts with `prefix.key`, sorted; only the directory the prefix names is walked. */
  async #listAll(prefix: ObjectUri): Promise<ObjectInfo[]> {
    assertListPrefix(prefix);
    const dirKey = prefix.key.slice(0, prefix.key.lastIndexOf('/') + 1);
    // The folder part is a real path (checked like a key); the rest only filters names below it.
    assertLocalKey({ ...prefix, key: dirKey });
    const dir = await this.#layout.realInside(prefix, this.#layout.pathOf({ ...prefix, key: dirKey }));
    if (dir === undefined) return [];
    const files = await walkFiles(dir, {
      skipDirectory: (rel) => dirKey === '' && rel === BLOB_DEFAULTS.localTempDirName,
    });
    return files
      .map((f) => objectInfo(dirKey + f.relativePath, f.size, f.mtimeMs))
      .filter((o) => o.key.startsWith(prefix.key));
  }

  /** Removes directories left empty by a delete, up to (not including) the bucket directory. */
  async #pruneEmptyDirs(bucket: string, fromDir: string): Promise<void> {
    const bucketDir = this.#layout.bucketDir(bucket);
    for (let dir = fromDir; dir !== bucketDir && isInsideOrSame(bucketDir, dir); dir = path.dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): every ancestor is non-empty too
      }
    }
  }
}

function objectInfo(key: string, size: number, mtimeMs: number): ObjectInfo {
  return {
    key,
    size,
    lastModifiedMs: Math.floor(mtimeMs),
    etag: `${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}`,
  };
}
