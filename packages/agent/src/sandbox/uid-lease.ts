/**
 * A host-wide lease on one sandbox uid, for workers that come and go on a host they share with others
 * (Slurm array elements: each runs one attempt, many at once per node). Two live sandboxes must never
 * share a uid, or one user's command could signal or read another's. A lease is a file named after the
 * uid, created exclusively and holding the owner's pid; a file whose pid is gone is a stale lease and is
 * taken over. The directory must be root's own (0700): anyone able to write it could fake or steal leases.
 */
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export const DEFAULT_UID_LEASE_DIR = '/run/shoal/uid-leases';

export interface UidLease {
  readonly uid: number;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ownDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = process.getuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0)
    throw new Error(`${dir} must be a directory of uid ${uid} that nobody else can write (mode 0700)`);
}

async function tryTake(file: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx', 0o600);
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  // A lease being written has no pid yet: leave it to its writer.
  if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) return false;
  // Stale: move it aside under a name only this process uses, so two takers cannot both win.
  const aside = `${file}.stale.${process.pid}`;
  try {
    await rename(file, aside);
  } catch {
    return false;
  }
  // Someone took the stale lease over between our read and the rename: give theirs back.
  if ((await readFile(aside, 'utf8').catch(() => '')).trim() !== String(owner)) {
    await rename(aside, file).catch(() => undefined);
    return false;
  }
  await rm(aside, { force: true });
  return tryTake(file);
}

/**
 * Leases one uid of `count` starting at `base`, trying `preferred` (an offset) first so concurrent
 * takers mostly do not collide.
 */
export async function leaseUid(
  dir: string,
  base: number,
  count: number,
  preferred: number,
): Promise<UidLease> {
  await ownDirectory(dir);
  for (let i = 0; i < count; i++) {
    const uid = base + ((preferred + i) % count);
    const file = path.join(dir, String(uid));
    if (await tryTake(file))
      return {
        uid,
        release: () => rm(file, { force: true }),
      };
  }
  throw new Error(`all ${count} sandbox uids from ${base} are leased on this host`);
}
