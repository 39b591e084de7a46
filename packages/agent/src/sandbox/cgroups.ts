/**
 * Where attempts' cgroups go. Each hierarchy gets one parent, `shoal-<tag>`, under the cgroup the agent
 * itself runs in (so an operator's limit on the agent also bounds its attempts); shoal-spawn creates one
 * child of it per warm sandbox, which the sandbox's consecutive attempts reuse while each leaves it clean
 * (a new one otherwise; see spawn-cgroup.c). Detected from the filesystem of /sys/fs/cgroup: cgroup v2 (one unified
 * hierarchy with memory, cpu and pids) or v1 (one mount per controller; hybrid hosts too).
 */
import { readFileSync, statfsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const CGROUP2_MAGIC = 0x63677270;
const V1_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
export const V2_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;

export type CgroupLayout =
  | { readonly version: 1; readonly dirs: Readonly<Record<(typeof V1_CONTROLLERS)[number], string>> }
  | { readonly version: 2; readonly dir: string };

export interface Mount {
  readonly mountPoint: string;
  readonly fsType: string;
  /** Super options: the controllers of a v1 hierarchy are among them. */
  readonly options: readonly string[];
}

/** cgroup mounts from /proc/self/mountinfo text. */
export function parseCgroupMounts(mountinfo: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fsType = '', , superOptions = ''] = line.slice(sep + 3).split(' ');
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    mounts.push({ mountPoint: unescape(left[4] ?? ''), fsType, options: superOptions.split(',') });
  }
  return mounts;
}

/** A process's cgroup in each v1 hierarchy (by controller) and in v2 (key ''), from /proc/<pid>/cgroup. */
export function parseOwnCgroups(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const where = line.slice(second + 1);
    if (controllers === '') own.set('', where);
    for (const c of controllers.split(',')) if (c) own.set(c, where);
  }
  return own;
}

function unescape(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * The layout for the agent's attempts, from this process's mounts and cgroups; undefined (with why) when
 * this machine has no usable cgroups. Pure given its inputs, so both versions are testable anywhere.
 */
export function planLayout(
  rootIsCgroup2: boolean,
  mounts: readonly Mount[],
  own: ReadonlyMap<string, string>,
  tag: string,
): { layout?: CgroupLayout; problem?: string } {
  const name = `shoal-${tag}`;
  if (rootIsCgroup2) {
    const unified = mounts.find((m) => m.fsType === 'cgroup2' && m.mountPoint === '/sys/fs/cgroup');
    if (!unified) return { problem: 'cgroup2 is mounted at /sys/fs/cgroup but not listed in mountinfo' };
    return { layout: { version: 2, dir: path.join(unified.mountPoint, own.get('') ?? '/', name) } };
  }
  const dirs: Partial<Record<(typeof V1_CONTROLLERS)[number], string>> = {};
  for (const controller of V1_CONTROLLERS) {
    const m = mounts.find((x) => x.fsType === 'cgroup' && x.options.includes(controller));
    if (!m) return { problem: `no cgroup v1 hierarchy has the ${controller} controller` };
    dirs[controller] = path.join(m.mountPoint, own.get(controller) ?? '/', name);
  }
  return { layout: { version: 1, dirs: dirs as Record<(typeof V1_CONTROLLERS)[number], string> } };
}

/** The layout of this machine for this agent (tag: stable per work root, so a restart finds leftovers). */
export function detectLayout(tag: string): { layout?: CgroupLayout; problem?: string } {
  let rootIsCgroup2: boolean;
  try {
    rootIsCgroup2 = statfsSync('/sys/fs/cgroup').type === CGROUP2_MAGIC;
  } catch (err) {
    return { problem: `/sys/fs/cgroup is not mounted (${(err as Error).message})` };
  }
  let mountinfo: string;
  let own: string;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    own = readFileSync('/proc/self/cgroup', 'utf8');
  } catch (err) {
    return { problem: `cannot read /proc/self: ${(err as Error).message}` };
  }
  return planLayout(rootIsCgroup2, parseCgroupMounts(mountinfo), parseOwnCgroups(own), tag);
}

export function layoutDirs(layout: CgroupLayout): string[] {
  return layout.version === 2 ? [layout.dir] : [...new Set(Object.values(layout.dirs))];
}

/** The helper's command-line arguments for a layout. */
export function helperArgs(layout: CgroupLayout): string[] {
  if (layout.version === 2) return ['--cgroup-v2', layout.dir];
  return ['--cgroup-v1', ...V1_CONTROLLERS.map((c) => `${c}=${layout.dirs[c]}`)];
}

/**
 * Creates the parents and empties them of what a previous agent process left (its attempts were cut
 * off: any process still in them is killed). On v2 the controllers are enabled for the parents'
 * children; a cgroup with processes of its own cannot delegate controllers, so when the agent's own
 * cgroup holds processes (the agent), the agent first moves into a leaf `shoal-agent` beside them.
 */
export async function prepareLayout(layout: CgroupLayout): Promise<void> {
  if (layout.version === 2) await enableV2(layout.dir);
  for (const dir of layoutDirs(layout)) {
    await mkdir(dir, { recursive: true });
    await clearChildren(dir);
  }
  if (layout.version === 2) {
    await writeFile(
      path.join(layout.dir, 'cgroup.subtree_control'),
      V2_CONTROLLERS.map((c) => `+${c}`).join(' '),
    );
  }
}

async function enableV2(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const available = (await readFile(path.join(parent, 'cgroup.controllers'), 'utf8')).split(/\s+/);
  const missing = V2_CONTROLLERS.filter((c) => !available.includes(c));
  if (missing.length) {
    throw new Error(
      `cgroup v2 controllers ${missing.join(', ')} are not available in ${parent} (delegate them to Shoal's cgroup)`,
    );
  }
  const enable = V2_CONTROLLERS.map((c) => `+${c}`).join(' ');
  try {
    await writeFile(path.join(parent, 'cgroup.subtree_control'), enable);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
    // "No internal processes": move this process (the agent) into a leaf, then delegate.
    const leaf = path.join(parent, 'shoal-agent');
    await mkdir(leaf, { recursive: true });
    await writeFile(path.join(leaf, 'cgroup.procs'), String(process.pid));
    await writeFile(path.join(parent, 'cgroup.subtree_control'), enable);
  }
}

/** Kills what is left in each child cgroup and removes it. */
async function clearChildren(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const child = path.join(dir, entry.name);
    for (let round = 0; round < 50; round++) {
      const pids = (await readFile(path.join(child, 'cgroup.procs'), 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      try {
        await rmdir(child);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}

/** Removes the parents once the helper is gone (with it, every attempt's cgroup). */
export async function removeLayout(layout: CgroupLayout): Promise<void> {
  for (const dir of layoutDirs(layout)) {
    await clearChildren(dir).catch(() => undefined);
    for (let round = 0; round < 50; round++) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}
