/**
 * Request targets. The server verifies the signature over the exact raw target it receives, so the
 * target is built once, canonically (sorted names, encodeURIComponent values, bare key for ''), and
 * that same string is both sent and signed.
 */
import { splitObjectUri } from './uri.js';

/** Query parameter values; `undefined`/`null` are left out, `''` is sent as a bare key. */
export type QueryValue = string | number | boolean | undefined | null;
export type QueryParams = Readonly<Record<string, QueryValue>>;

/**
 * Renders `?a=1&b` from params sorted by name; '' when nothing is left.
 *
 * @example
 * buildQuery({ MaxItemCount: 10, Marker: '' }); // '?Marker&MaxItemCount=10'
 * buildQuery({ State: undefined }); // ''
 */
export function buildQuery(params: QueryParams = {}): string {
  const names = Object.keys(params)
    .filter((name) => params[name] !== undefined && params[name] !== null)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) return '';
  const parts = names.map((name) => {
    const value = String(params[name]);
    return value === ''
      ? encodeURIComponent(name)
      : `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  });
  return `?${parts.join('&')}`;
}

/**
 * Joins path segments, percent-encoding each one.
 *
 * @example
 * resourcePath('jobs', 'job-1', 'tasks', 'my task'); // '/jobs/job-1/tasks/my%20task'
 */
export function resourcePath(...segments: readonly (string | number)[]): string {
  return segments.map((segment) => `/${encodeURIComponent(String(segment))}`).join('');
}

/**
 * Encodes an object key per segment, keeping its '/' separators.
 *
 * @example
 * encodeObjectKey('logs/a b/stdout.job-1.task.0'); // 'logs/a%20b/stdout.job-1.task.0'
 */
export function encodeObjectKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/**
 * The Shoal object route for an `oss://` or `s3://` URI. Throws a TypeError for a malformed URI.
 *
 * @example
 * objectPath('oss://shoal/cli/x/worker.tar.gz'); // '/objects/shoal/cli/x/worker.tar.gz'
 */
export function objectPath(uri: string): string {
  const parsed = splitObjectUri(uri);
  if (parsed.key === '')
    throw new TypeError(`object URI ${JSON.stringify(uri)} names a bucket, not an object`);
  return `/objects/${encodeURIComponent(parsed.bucket)}/${encodeObjectKey(parsed.key)}`;
}
