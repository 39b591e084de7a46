/**
 * The host's system directories as a sandbox sees them: read-only binds of the real directories, and the
 * symlinks of a merged-/usr host (/bin -> usr/bin) recreated as symlinks rather than bound twice.
 */
import { lstatSync, readlinkSync } from 'node:fs';

export const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt'];

/** Paths the sandbox mounts itself: a mapping may not land there. */
export const RESERVED_PATHS = [...SYSTEM_DIRS, '/proc', '/dev', '/sys'];

export type SystemEntry =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

let cached: SystemEntry[] | undefined;

/** This host's system entries (read once per process: they do not change under a running agent). */
export function systemEntries(): readonly SystemEntry[] {
  if (cached) return cached;
  const entries: SystemEntry[] = [];
  for (const path of SYSTEM_DIRS) {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) entries.push({ kind: 'symlink', path, target: readlinkSync(path) });
    else if (st.isDirectory()) entries.push({ kind: 'dir', path });
  }
  cached = entries;
  return entries;
}
