import { formatObjectUri, joinObjectUri, type BlobStore, type ObjectUri } from '@shoal/core';
import { directoryKey } from './keys.js';
import { resolveUnder } from './safe-path.js';
import { walkFiles } from './walk.js';

/**
 * Directory transfers written once over the BlobStore primitives, so both adapters walk, map and
 * refuse keys identically.
 */

/** Uploads every regular file under `localDir` (symlinks skipped) to `prefix/<relative path>`. */
export async function uploadDirectoryVia(
  store: Pick<BlobStore, 'uploadFile'>,
  localDir: string,
  prefix: ObjectUri,
  concurrency: number,
): Promise<number> {
  const files = await walkFiles(localDir);
  const base = { ...prefix, key: directoryKey(prefix.key) };
  await forEachLimited(files, concurrency, (file) =>
    store.uploadFile(resolveUnder(localDir, file.relativePath), joinObjectUri(base, file.relativePath)),
  );
  return files.length;
}

/**
 * Downloads every object under `prefix` (read as a directory: `p` means `p/`) into `localDir`.
 * Every key is mapped and checked before the first byte is written, so a bucket holding a hostile
 * key (`p/../../x`) fails the whole download instead of leaving a partial one behind.
 */
export async function downloadPrefixVia(
  store: Pick<BlobStore, 'listObjects' | 'downloadFile'>,
  prefix: ObjectUri,
  localDir: string,
  concurrency: number,
): Promise<number> {
  const base = { ...prefix, key: directoryKey(prefix.key) };
  const jobs: { uri: ObjectUri; target: string }[] = [];
  for await (const key of listAllKeys(store, base)) {
    // Zero-byte "folder" objects made by S3 consoles carry no data and cannot become files.
    if (key.endsWith('/')) continue;
    jobs.push({ uri: { ...base, key }, target: resolveUnder(localDir, key.slice(base.key.length)) });
  }
  await forEachLimited(jobs, concurrency, (job) => store.downloadFile(job.uri, job.target));
  return jobs.length;
}

/** Every key under `prefix`, page by page. */
export async function* listAllKeys(
  store: Pick<BlobStore, 'listObjects'>,
  prefix: ObjectUri,
): AsyncGenerator<string> {
  let marker: string | undefined;
  do {
    const page = await store.listObjects(prefix, marker === undefined ? {} : { marker });
    for (const object of page.objects) yield object.key;
    if (page.nextMarker !== undefined && page.nextMarker === marker) {
      throw new Error(`listing ${formatObjectUri(prefix)} returned the same marker twice`);
    }
    marker = page.nextMarker;
  } while (marker !== undefined);
}

/** Runs `fn` over `items` with at most `limit` in flight; the first failure rejects once the rest settle. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure.err;
}
