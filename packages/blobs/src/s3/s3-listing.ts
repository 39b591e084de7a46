import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ListObjectsOptions, ListObjectsPage, ObjectInfo, ObjectUri } from '@shoal/core';
import { BLOB_DEFAULTS } from '../defaults.js';
import { assertListPrefix, compareKeys, resolveListLimit } from '../keys.js';
import { isNoSuchBucket } from './s3-errors.js';

/**
 * One ListObjectsV2 page with the port's semantics. The marker is the last key or common prefix
 * returned (as on the local backend) and is sent as StartAfter rather than relying on continuation
 * tokens: some services (fauxqs) encode the last object in the token even when a common prefix
 * came after it, which repeats that prefix. A StartAfter at a common prefix lists it again on every
 * service, so entries not after the marker are filtered out.
 */
export async function listS3Page(
  client: S3Client,
  prefix: ObjectUri,
  options: ListObjectsOptions,
): Promise<ListObjectsPage> {
  assertListPrefix(prefix);
  const limit = resolveListLimit(options.limit);
  const marker = options.marker;
  let out;
  try {
    out = await client.send(
      new ListObjectsV2Command({
        Bucket: prefix.bucket,
        Prefix: prefix.key === '' ? undefined : prefix.key,
        Delimiter: options.delimiter === '' ? undefined : options.delimiter,
        StartAfter: marker,
        // One spare entry absorbs the repeated common prefix, so full pages stay full.
        MaxKeys: Math.min(limit + 1, BLOB_DEFAULTS.listLimit),
      }),
    );
  } catch (err) {
    // A bucket nobody has written to yet is simply empty, as on the local backend.
    if (isNoSuchBucket(err)) return { objects: [], prefixes: [], nextMarker: undefined };
    throw err;
  }
  const after = (key: string): boolean => marker === undefined || compareKeys(key, marker) > 0;
  const entries: { key: string; object?: ObjectInfo }[] = [
    ...(out.Contents ?? []).flatMap((o) =>
      o.Key === undefined
        ? []
        : [{ key: o.Key, object: toObjectInfo(o.Key, o.Size, o.LastModified, o.ETag) }],
    ),
    ...(out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix === undefined ? [] : [{ key: p.Prefix }])),
  ].sort((a, b) => compareKeys(a.key, b.key));
  const fresh = entries.filter((e) => after(e.key));
  const page = fresh.slice(0, limit);
  const more = fresh.length > limit || out.IsTruncated === true;
  return {
    objects: page.flatMap((e) => (e.object === undefined ? [] : [e.object])),
    prefixes: page.flatMap((e) => (e.object === undefined ? [e.key] : [])),
    // An all-filtered truncated page resumes after the service's last entry.
    nextMarker: more ? (page.at(-1)?.key ?? entries.at(-1)?.key) : undefined,
  };
}

export function toObjectInfo(
  key: string,
  size: number | undefined,
  modified: Date | undefined,
  etag: string | undefined,
): ObjectInfo {
  return {
    key,
    size: size ?? 0,
    lastModifiedMs: modified?.getTime() ?? 0,
    ...(etag === undefined ? {} : { etag: etag.replace(/^"|"$/g, '') }),
  };
}
