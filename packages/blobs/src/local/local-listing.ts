import type { ListObjectsPage, ObjectInfo } from '@shoal/core';
import { compareKeys } from '../keys.js';

export interface PageKeysOptions {
  readonly delimiter?: string;
  /** The last key or common prefix of the previous page. */
  readonly marker?: string;
  readonly limit: number;
}

/**
 * One page of a listing over keys sorted by `compareKeys`, with S3's ListObjectsV2 semantics:
 * `prefix` is a plain string prefix, keys with `delimiter` after the prefix roll up into common
 * prefixes, and objects and common prefixes together count against `limit`.
 */
export function pageKeys(
  sorted: readonly ObjectInfo[],
  prefix: string,
  options: PageKeysOptions,
): ListObjectsPage {
  const { delimiter, marker, limit } = options;
  const objects: ObjectInfo[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  let truncated = false;
  for (const entry of sorted) {
    if (!entry.key.startsWith(prefix)) continue;
    const common = commonPrefixOf(entry.key, prefix, delimiter);
    if (marker !== undefined) {
      // A common prefix as marker stands for every key below it, although those keys sort after it.
      if (common === marker || compareKeys(entry.key, marker) <= 0) continue;
    }
    if (common !== undefined && common === last) continue;
    if (objects.length + prefixes.length >= limit) {
      truncated = true;
      break;
    }
    if (common !== undefined) {
      prefixes.push(common);
      last = common;
    } else {
      objects.push(entry);
      last = entry.key;
    }
  }
  return { objects, prefixes, nextMarker: truncated ? last : undefined };
}

function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined || delimiter === '') return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}
