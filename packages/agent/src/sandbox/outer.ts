/**
 * What a warm sandbox is made of (its profile) and the bubblewrap arguments that build it. Attempts run
 * inside it in namespaces of their own (see attempt-root.ts); the outer sandbox only decides what they can
 * draw on: the system directories, the network, the slot directory holding their files, and the init.
 */
import { systemEntries } from './system.js';

/** Where the slot directory (attempt files on the host) and the init appear inside the outer sandbox. */
export const SLOT_INSIDE = '/.shoal/slot';
/** Where a root filesystem image appears inside the outer sandbox (the lower layer of attempts' roots). */
export const IMAGE_INSIDE = '/.shoal/image';
/** Where the i-th host mount of a profile appears inside the outer sandbox. */
export function mountInside(index: number): string {
  return `/.shoal/mounts/${index}`;
}
export const INIT_INSIDE = '/.shoal/shoal-init';
/**
 * The uid and gid commands run as inside (mapped to the sandbox's own host uid): `nobody` on the worker's
 * own OS; root in a root filesystem image, whose files the sandbox sees as its root's (idmapped), so the
 * attempt's writable layer works as in a container. Never with capabilities.
 */
export const INSIDE_ID = 65534;
export const INSIDE_IMAGE_ID = 0;

/** The worker's own OS, or an unpacked root filesystem image (a host directory). */
export type SandboxImage = { readonly kind: 'system' } | { readonly kind: 'rootfs'; readonly dir: string };

/**
 * Attempts share a warm sandbox only when these agree: never across owners; the network is a property
 * of the sandbox's namespaces, and the image is bound into it.
 */
export interface SandboxProfile {
  readonly ownerId: number;
  readonly networkAccess: boolean;
  readonly image: SandboxImage;
  /** Host directories bound into the sandbox (real paths), for the task's nas:// and file:// Mounts. */
  readonly hostMounts: readonly { readonly hostPath: string; readonly writable: boolean }[];
}

export function profileKey(p: SandboxProfile): string {
  const mounts = p.hostMounts.map((m) => `${m.writable ? 'rw' : 'ro'}:${m.hostPath}`);
  return JSON.stringify([p.ownerId, p.networkAccess, p.image.kind === 'rootfs' ? p.image.dir : '', mounts]);
}

/**
 * bwrap's arguments: every namespace new (user, pid, mount, ipc, uts, cgroup, and net unless the profile
 * allows the network), no further user namespaces for the sandbox, capabilities only inside its user
 * namespace (init needs them to build each attempt's mounts; commands lose them all), the system
 * read-only, and the init as pid 1 of the sandbox.
 */
export function outerArgs(
  p: SandboxProfile,
  slotSource: string,
  initSource: string,
  imageSource: string | undefined,
  mountSources: readonly string[],
): string[] {
  const args = ['--unshare-all', '--unshare-user', '--disable-userns'];
  if (p.networkAccess) args.push('--share-net');
  const id = String(p.image.kind === 'rootfs' ? INSIDE_IMAGE_ID : INSIDE_ID);
  args.push('--uid', id, '--gid', id, '--cap-add', 'ALL');
  args.push('--die-with-parent', '--as-pid-1');
  for (const e of systemEntries()) {
    if (e.kind === 'dir') args.push('--ro-bind', e.path, e.path);
    else args.push('--symlink', e.target, e.path);
  }
  args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  args.push('--bind', slotSource, SLOT_INSIDE, '--ro-bind', initSource, INIT_INSIDE);
  if (imageSource) args.push('--ro-bind', imageSource, IMAGE_INSIDE);
  p.hostMounts.forEach((m, i) =>
    args.push(m.writable ? '--bind' : '--ro-bind', mountSources[i]!, mountInside(i)),
  );
  args.push('--chdir', '/', '--', INIT_INSIDE, '3');
  return args;
}
