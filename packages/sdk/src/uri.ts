/**
 * Browser-safe pieces of core the client needs at run time (core's index pulls node:crypto in):
 * object URI parsing and the terminal job states. Types still come from core's wire.ts.
 */

/** A parsed `oss://bucket/key` or `s3://bucket/key`. */
export interface ParsedObjectUri {
  scheme: 'oss' | 's3';
  bucket: string;
  /** Key without leading slash; '' for the bucket root, ending in '/' for a prefix. */
  key: string;
}

const URI_RE = /^(oss|s3):\/\/([^/]*)(?:\/(.*))?$/s;
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Splits an object URI; throws a TypeError for anything the server would reject.
 *
 * @example splitObjectUri('oss://shoal/in/a.txt') // { scheme: 'oss', bucket: 'shoal', key: 'in/a.txt' }
 */
export function splitObjectUri(text: string): ParsedObjectUri {
  const m = URI_RE.exec(text);
  const bad = (why: string): TypeError => new TypeError(`invalid object URI ${JSON.stringify(text)}: ${why}`);
  if (!m) throw bad('must start with oss:// or s3:// followed by a bucket name');
  const bucket = m[2] ?? '';
  const key = m[3] ?? '';
  if (!BUCKET_RE.test(bucket) || bucket.includes('..'))
    throw bad(`bucket name ${JSON.stringify(bucket)} must be 3-63 characters of a-z, 0-9, '.', '-'`);
  if (key.startsWith('/')) throw bad('key must not start with /');
  if (key.split('/').some((part) => part === '.' || part === '..'))
    throw bad("key must not contain '.' or '..' segments");
  return { scheme: m[1] as 'oss' | 's3', bucket, key };
}

/**
 * True for the states a job or instance never leaves.
 *
 * @example isFinalState('Failed') // true
 */
export function isFinalState(state: string): boolean {
  return state === 'Finished' || state === 'Failed' || state === 'Stopped';
}
