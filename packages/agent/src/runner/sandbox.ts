import { spawn } from 'node:child_process';
import { access, chmod, constants, lstat, mkdir, readlink, stat } from 'node:fs/promises';
import { isWithin } from './mappings.js';
import { blockedPathFor } from './perms.js';

/**
 * The bubblewrap sandbox: a private mount namespace (plus pid, ipc, uts namespaces) in which the host's
 * system directories are read-only, /tmp is private, the working directory is writable and each mapping
 * is bound at the path the task asked for. bwrap must start as an unprivileged uid: started as root it
 * keeps its capabilities and the child could remount the binds read-write.
 */

/** A host path mounted at `visible` inside the sandbox. */
export interface Bind {
  readonly host: string;
  readonly visible: string;
  readonly writable: boolean;
}

export interface SandboxProbe {
  readonly ok: boolean;
  readonly reason: string;
  /** bwrap arguments that recreate the host's system directories read-only (symlinks kept as symlinks). */
  readonly systemArgs: readonly string[];
}

/** The uid/gid to start bwrap as, or undefined when the agent is not root (it then runs as itself). */
export interface SandboxIds {
  readonly uid: number;
  readonly gid: number;
}

const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt'];
const PROBE_TIMEOUT_MS = 10_000;

const USERNS_FIX =
  'enable unprivileged user namespaces (sysctl -w kernel.unprivileged_userns_clone=1 where that sysctl exists, ' +
  'and user.max_user_namespaces > 0)';
const INSTALL_FIX = 'install it: apt-get install bubblewrap';

export const SANDBOX_FIX = `install bubblewrap (apt-get install bubblewrap), ${USERNS_FIX}, and run the runner with sandbox 'auto' or 'bwrap'`;

export interface ProbeOptions {
  readonly bwrapPath: string;
  readonly workRoot: string;
  readonly ids: SandboxIds | undefined;
}

/**
 * Checks that bwrap can really build a sandbox here, as the sandbox user, with the work root bound.
 * The work root gets o+x so that the sandbox user can reach the attempt directories inside it.
 */
export async function probeSandbox(o: ProbeOptions): Promise<SandboxProbe> {
  const systemArgs = await systemMountArgs();
  try {
    await access(o.bwrapPath, constants.X_OK);
  } catch {
    return {
      ok: false,
      reason: `bubblewrap is not installed (no executable ${o.bwrapPath}); ${INSTALL_FIX}`,
      systemArgs,
    };
  }
  await mkdir(o.workRoot, { recursive: true });
  if (o.ids) {
    const st = await stat(o.workRoot);
    if ((st.mode & 0o001) === 0) await chmod(o.workRoot, (st.mode & 0o7777) | 0o711).catch(() => undefined);
    const blocked = await blockedPathFor(o.workRoot, o.ids, 0o1);
    if (blocked !== undefined) {
      return {
        ok: false,
        reason:
          `the sandbox user (uid ${o.ids.uid}) cannot reach the work root ${o.workRoot}: ${blocked} is not searchable by it; ` +
          'make every directory on the way searchable (chmod o+x) or choose another workRoot',
        systemArgs,
      };
    }
  }
  const truePath = (await firstExisting(['/usr/bin/true', '/bin/true'])) ?? 'true';
  const args = [
    ...systemArgs,
    '--unshare-all',
    '--die-with-parent',
    '--bind',
    o.workRoot,
    o.workRoot,
    '--',
    truePath,
  ];
  const { code, stderr } = await runProbe(o.bwrapPath, args, o.ids);
  if (code === 0)
    return { ok: true, reason: `bwrap works as uid ${o.ids?.uid ?? process.getuid?.() ?? '?'}`, systemArgs };
  const who = o.ids ? `uid ${o.ids.uid}` : 'the agent user';
  return {
    ok: false,
    reason: `bwrap failed to create a sandbox as ${who} (exit ${code}): ${stderr.trim() || 'no message'}; ${USERNS_FIX}`,
    systemArgs,
  };
}

export interface BwrapArgsOptions {
  readonly systemArgs: readonly string[];
  readonly workDir: string;
  readonly binds: readonly Bind[];
  readonly network: boolean;
  readonly argv: readonly string[];
  /** Child fd on which bwrap reports JSON status (child-pid, then exit-code once the command ran). */
  readonly statusFd: number;
}

export function bwrapArgs(o: BwrapArgsOptions): string[] {
  const args = [...o.systemArgs, '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--unshare-all'];
  if (o.network) args.push('--share-net');
  // No --new-session: the runner starts bwrap detached (a new session without a terminal), and keeping
  // the command in bwrap's process group lets SIGTERM to the group reach it.
  args.push('--die-with-parent', '--bind', o.workDir, o.workDir);
  // Parents before children, so a mapping nested in another one is mounted on top of it.
  const ordered = [...o.binds].sort((x, y) => depth(x.visible) - depth(y.visible));
  for (const b of ordered) args.push(b.writable ? '--bind' : '--ro-bind', b.host, b.visible);
  args.push('--chdir', o.workDir, '--json-status-fd', String(o.statusFd), '--', ...o.argv);
  return args;
}

/** The host side of a visible path: through the deepest bind containing it. */
export function hostPathOf(
  binds: readonly Bind[],
  visible: string,
): { host: string; bind: Bind } | undefined {
  let best: Bind | undefined;
  for (const b of binds) {
    if (isWithin(visible, b.visible) && (!best || b.visible.length > best.visible.length)) best = b;
  }
  if (!best) return undefined;
  return { host: best.host + visible.slice(best.visible.length), bind: best };
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

async function systemMountArgs(): Promise<string[]> {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    const st = await lstat(dir).catch(() => undefined);
    if (!st) continue;
    // Merged-/usr hosts have /bin -> usr/bin: recreate the link rather than binding its target twice.
    if (st.isSymbolicLink()) args.push('--symlink', await readlink(dir), dir);
    else if (st.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  return args;
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    if (
      await access(p, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return p;
  }
  return undefined;
}

function runProbe(
  file: string,
  args: string[],
  ids: SandboxIds | undefined,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    const child = spawn(file, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: '/usr/bin:/bin' },
      ...ids,
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
