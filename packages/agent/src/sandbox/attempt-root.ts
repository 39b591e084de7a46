/**
 * The root an attempt runs in, as mount operations for the sandbox's init (shoal-sandbox-init.c): a
 * tmpfs made read-only once its mount points exist, with a writable /tmp of its own; the system
 * directories read-only; /proc of the attempt's own pid namespace; /dev with a fresh /dev/shm; the working directory at a fixed
 * path; and each mapping at the path the task asked for. The fewer filesystems an attempt mounts, the
 * less its start and end cost.
 */
import type { MountOp } from '../runner/launch/native.js';
import { systemEntries } from './system.js';

/** Where every sandboxed attempt finds its working directory (as in BatchCompute's Docker mode). */
export const WORKDIR_VISIBLE = '/batchcompute/workdir';

/** A directory or file of the outer sandbox bound into the attempt at `visible`. */
export interface AttemptBind {
  readonly source: string;
  readonly visible: string;
  readonly writable: boolean;
}

/** The part of every attempt's root that does not depend on the attempt: built before it arrives. */
export function attemptRootBase(): MountOp[] {
  const ops: MountOp[] = [['root-tmpfs', '', '', '']];
  for (const e of systemEntries()) {
    if (e.kind === 'dir') ops.push(['bind', e.path, e.path, 'ro']);
    else ops.push(['symlink', e.target, e.path, '']);
  }
  ops.push(['dev', '/dev', '', ''], ['proc', '/proc', '', ''], ['rwdir', '/tmp', '1777', '']);
  return ops;
}

/** The attempt's own part: its working directory and mappings, then the root made read-only. */
export function attemptRootOps(workDirSource: string, binds: readonly AttemptBind[]): MountOp[] {
  const ops: MountOp[] = [['bind', workDirSource, WORKDIR_VISIBLE, 'rw']];
  // Parents before children, so that a mapping nested in another one is mounted on top of it.
  const ordered = [...binds].sort((x, y) => depth(x.visible) - depth(y.visible));
  for (const b of ordered) ops.push(['bind', b.source, b.visible, b.writable ? 'rw' : 'ro']);
  ops.push(['ro', '/', '', '']);
  return ops;
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}
