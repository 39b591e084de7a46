import {
  formatObjectUri,
  invalidParameter,
  objectPrefixProblem,
  objectUriProblem,
  type ObjectUri,
} from '@shoal/core';
import { BLOB_DEFAULTS } from './defaults.js';

/**
 * Rules on keys, ranges and page sizes shared by every adapter, so both backends refuse the same
 * inputs with the same errors.
 */

/** Throws InvalidParameter unless `uri` would be accepted by `parseObjectUri`. */
export function assertObjectUri(uri: ObjectUri): void {
  const problem = objectUriProblem(formatObjectUri(uri));
  if (problem) throw invalidParameter('uri', formatObjectUri(uri), problem);
}

/** Throws unless `uri` can be a listing prefix (its last part may be a partial name such as '.'). */
export function assertListPrefix(uri: ObjectUri): void {
  const problem = objectPrefixProblem(formatObjectUri(uri));
  if (problem) throw invalidParameter('uri', formatObjectUri(uri), problem);
}

/** Throws unless `uri` names an object (not a prefix): writes to `dir/` would create a phantom directory. */
export function assertObjectKey(uri: ObjectUri): void {
  assertObjectUri(uri);
  if (uri.key === '' || uri.key.endsWith('/')) {
    throw invalidParameter('uri', formatObjectUri(uri), 'must name an object, not a prefix ending in /');
  }
}

/**
 * The key prefix that bulk operations (deletePrefix, downloadPrefix) work under: `dir` is read as
 * `dir/`, so `oss://b/logs` never touches `oss://b/logs-old/...`.
 */
export function directoryKey(key: string): string {
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}

/** S3 orders keys by their UTF-8 bytes; JavaScript's `<` orders by UTF-16 units, which differs above U+FFFF. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function resolveListLimit(limit: number | undefined): number {
  if (limit === undefined) return BLOB_DEFAULTS.listLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > BLOB_DEFAULTS.listLimit) {
    throw invalidParameter('limit', limit, `must be an integer from 1 to ${BLOB_DEFAULTS.listLimit}`);
  }
  return limit;
}

/** A byte range with an inclusive `end`, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

export function assertRange(range: ByteRange): void {
  if (!Number.isSafeInteger(range.start) || range.start < 0) {
    throw invalidParameter('range.start', range.start, 'must be a non-negative integer');
  }
  if (range.end !== undefined && (!Number.isSafeInteger(range.end) || range.end < range.start)) {
    throw invalidParameter('range.end', range.end, 'must be an integer not less than range.start');
  }
}

export function rangeNotSatisfiable(uri: ObjectUri, range: ByteRange, size: number): Error {
  return invalidParameter(
    'range.start',
    range.start,
    `must be less than the size ${size} of ${formatObjectUri(uri)}`,
  );
}
