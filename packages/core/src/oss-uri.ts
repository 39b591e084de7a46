/**
 * Object URIs: `oss://bucket/key` (Alibaba's scheme, used in job descriptions) and `s3://bucket/key`
 * name the same objects; both map onto whichever BlobStore backend the server runs.
 * A key ending in `/` (or empty) names a prefix ("directory").
 */
export interface ObjectUri {
  readonly scheme: 'oss' | 's3';
  readonly bucket: string;
  /** Key without leading slash; may be '' (bucket root) or end with '/' (a prefix). */
  readonly key: string;
}

// S3 bucket naming rules, relaxed to what OSS and S3 both accept; keeps paths safe on the local backend.
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Why `text` is not an object URI, or undefined when it is one. */
export function objectUriProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'must be a string like oss://bucket/key';
  const m = /^(oss|s3):\/\/([^/]*)(?:\/(.*))?$/s.exec(text);
  if (!m) return 'must start with oss:// or s3:// followed by a bucket name';
  const bucket = m[2] ?? '';
  const key = m[3] ?? '';
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) {
    return `bucket name ${JSON.stringify(bucket)} must be 3-63 characters of a-z, 0-9, '.', '-'`;
  }
  if (key.startsWith('/')) return 'key must not start with /';
  if (/[\u0000-\u001f]/.test(key)) return 'key must not contain control characters';
  if (key.split('/').some((part) => part === '.' || part === '..'))
    return "key must not contain '.' or '..' segments";
  if (Buffer.byteLength(key) > 1024) return 'key must be at most 1024 bytes';
  return undefined;
}

/**
 * Why `text` cannot be a listing prefix, or undefined. A prefix is matched as a string, so its last part
 * may be any start of a name: `oss://b/.` lists `.hidden` and `..` lists `..notes`. Only the folders above
 * it must be real path segments.
 */
export function objectPrefixProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return objectUriProblem(text);
  const m = /^((?:oss|s3):\/\/[^/]*\/(?:.*\/)?)(\.\.?)$/s.exec(text);
  return objectUriProblem(m ? m[1] : text);
}

export function parseObjectUri(text: string): ObjectUri {
  const problem = objectUriProblem(text);
  if (problem) throw new TypeError(`invalid object URI ${JSON.stringify(text)}: ${problem}`);
  const m = /^(oss|s3):\/\/([^/]*)(?:\/(.*))?$/s.exec(text)!;
  return { scheme: m[1] as 'oss' | 's3', bucket: m[2]!, key: m[3] ?? '' };
}

export function formatObjectUri(uri: ObjectUri): string {
  return `${uri.scheme}://${uri.bucket}/${uri.key}`;
}

export function isPrefix(uri: ObjectUri): boolean {
  return uri.key === '' || uri.key.endsWith('/');
}

/** Joins a prefix URI and a relative key: `oss://b/logs/` + `stdout.x` -> `oss://b/logs/stdout.x`. */
export function joinObjectUri(prefix: ObjectUri, relative: string): ObjectUri {
  const base = prefix.key === '' || prefix.key.endsWith('/') ? prefix.key : `${prefix.key}/`;
  return { ...prefix, key: base + relative.replace(/^\/+/, '') };
}
