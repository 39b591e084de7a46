/**
 * The root an attempt runs in, as mount operations for the sandbox's init (shoal-sandbox-init.c): a
 * tmpfs made read-only once its mount points exist, with a writable /tmp of its own; the system
 * directories read-only; /proc of the attempt's own pid namespace; /dev with a fresh /dev/shm; the working directory at a fixed
 * path; and each mapping at the path the task asked for. The fewer filesystems an attempt mounts, the
 * less its start and end cost.
 */
import type { MountOp } from '../runner/launch/native.js';
import { IMAGE_INSIDE, type SandboxImage } from './outer.js';
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
export function attemptRootBase(image: SandboxImage): MountOp[] {
  if (image.kind === 'rootfs') {
    // The image with a writable layer of the attempt's own (in memory), a fresh /tmp, /dev and /proc.
    return [
      ['root-overlay', IMAGE_INSIDE, '', ''],
      ['dev', '/dev', '', ''],
      ['proc', '/proc', '', ''],
      ['tmpfs', '/tmp', '1777', ''],
    ];
  }
  const ops: MountOp[] = [['root-tmpfs', '', '', '']];
  for (const e of systemEntries()) {
    if (e.kind === 'dir') ops.push(['bind', e.path, e.path, 'ro']);
    else ops.push(['symlink', e.target, e.path, '']);
  }
  ops.push(['dev', '/dev', '', ''], ['proc', '/proc', '', ''], ['rwdir', '/tmp', '1777', '']);
  return ops;
}

/**
 * The attempt's own part: its working directory and mappings, then, on the worker's own OS, the root
 * made read-only (an image's root stays writable: its layer is the attempt's own).
 */
export function attemptRootOps(
  image: SandboxImage,
  workDirSource: string,
  binds: readonly AttemptBind[],
): MountOp[] {
  const ops: MountOp[] = [['bind', workDirSource, WORKDIR_VISIBLE, 'rw']];
  // Parents before children, so that a mapping nested in another one is mounted on top of it.
  const ordered = [...binds].sort((x, y) => depth(x.visible) - depth(y.visible));
  for (const b of ordered) ops.push(['bind', b.source, b.visible, b.writable ? 'rw' : 'ro']);
  if (image.kind === 'system') ops.push(['ro', '/', '', '']);
  return ops;
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}
