import path from 'node:path';
import { ShoalError, showValue } from '@shoal/core';

/**
 * Maps a relative, `/`-separated key onto a path under `baseDir`. Object keys come from whoever
 * wrote to the bucket, so a key like `a/../../etc/passwd` must never become a path outside `baseDir`.
 * Throws InvalidParameter naming the key and the directory.
 */
export function resolveUnder(baseDir: string, relativeKey: string): string {
  const refuse = (why: string): ShoalError =>
    new ShoalError(
      'InvalidParameter',
      `Object key ${showValue(relativeKey)} cannot be mapped under ${showValue(baseDir)}: ${why}.`,
      'key',
    );
  if (relativeKey === '') throw refuse('it is empty');
  if (relativeKey.includes('\0')) throw refuse('it contains a NUL byte');
  if (relativeKey.startsWith('/') || path.isAbsolute(relativeKey)) throw refuse('it is absolute');
  const segments = relativeKey.split('/');
  if (segments.some((s) => s === '..')) throw refuse("it contains a '..' segment");
  const base = path.resolve(baseDir);
  const target = path.resolve(base, ...segments.filter((s) => s !== '' && s !== '.'));
  // Second guard, independent of the segment rules above (e.g. backslashes on Windows-like inputs).
  if (target === base || !isInside(base, target)) throw refuse('it resolves outside the directory');
  return target;
}

/** True when `child` is `parent` itself or below it (both absolute and normalized). */
export function isInsideOrSame(parent: string, child: string): boolean {
  return child === parent || isInside(parent, child);
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}
