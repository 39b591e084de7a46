/**
 * What sandboxed attempts need on this machine, checked and set up once per runner: the compiled helpers,
 * bubblewrap, cgroups for the limits, and the helper process with its pool of warm sandboxes. `check`
 * says, for each part that is missing, what it is and how to fix it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { NativeLauncher } from '../runner/launch/native.js';
import type { ResolvedRunnerOptions } from '../runner/options.js';
import { detectLayout, helperArgs, prepareLayout, removeLayout, type CgroupLayout } from './cgroups.js';
import { SandboxPool } from './pool.js';

const run = promisify(execFile);

export const USERNS_FIX =
  'enable unprivileged user namespaces (sysctl -w user.max_user_namespaces=15000, and ' +
  'kernel.unprivileged_userns_clone=1 or kernel.apparmor_restrict_unprivileged_userns=0 where those exist)';
export const INSTALL_FIX = 'install it: apt-get install bubblewrap';
const BUILD_FIX =
  'install a C compiler and the static C library (apt-get install gcc libc6-dev), then npm run build';
const MIN_BWRAP = [0, 8, 0];

export interface SandboxStatus {
  /** Whether sandboxed attempts can run here. */
  readonly ok: boolean;
  /** Why not (with the fix), or how it runs. */
  readonly reason: string;
  /** Whether instance-type limits are enforced (cgroups). */
  readonly limits: boolean;
  /** Why limits are not enforced, when they are not. */
  readonly limitsProblem: string;
  readonly cgroupVersion: 1 | 2 | null;
}

export class SandboxRuntime {
  private constructor(
    readonly launcher: NativeLauncher | undefined,
    readonly pool: SandboxPool | undefined,
    readonly cgroups: CgroupLayout | undefined,
    /** Set when the parts are in place; the runner then proves them with a real attempt. */
    readonly problem: string,
    readonly limitsProblem: string,
  ) {}

  /** Checks the parts and starts the helper; never throws (a missing part is a `problem`). */
  static async create(o: ResolvedRunnerOptions): Promise<SandboxRuntime> {
    const missing = await missingPart(o);
    if (missing) return new SandboxRuntime(undefined, undefined, undefined, missing, 'no sandbox');
    let layout: CgroupLayout | undefined;
    let limitsProblem = '';
    if (!o.cgroups) limitsProblem = 'cgroups are off (RunnerOptions.cgroups = false)';
    else if (process.getuid?.() !== 0) limitsProblem = 'creating cgroups needs a root agent';
    else {
      const tag = createHash('sha1').update(o.workRoot).digest('hex').slice(0, 12);
      const detected = detectLayout(tag);
      if (detected.layout) {
        try {
          await prepareLayout(detected.layout);
          layout = detected.layout;
        } catch (err) {
          limitsProblem = `cgroups cannot be set up: ${(err as Error).message}`;
        }
      } else limitsProblem = `no usable cgroups: ${detected.problem}`;
    }
    const launcher = new NativeLauncher(o.helperPath, layout ? helperArgs(layout) : []);
    const pool = new SandboxPool(launcher, {
      root: path.join(o.workRoot, 'sandboxes'),
      bwrapPath: o.bwrapPath,
      initPath: o.initPath,
      uidBase: o.sandboxUidBase,
      uidCount: o.sandboxUidCount,
      maxIdle: o.warmSandboxes,
    });
    return new SandboxRuntime(launcher, pool, layout, '', limitsProblem);
  }

  async close(): Promise<void> {
    await this.pool?.closeAll();
    await this.launcher?.close();
    if (this.cgroups) await removeLayout(this.cgroups);
  }
}

async function missingPart(o: ResolvedRunnerOptions): Promise<string> {
  for (const [what, file] of [
    ['the shoal-spawn helper', o.helperPath],
    ['the sandbox init', o.initPath],
  ] as const) {
    if (!(await executable(file))) return `${what} is not built (no ${file}); ${BUILD_FIX}`;
  }
  if (!(await executable(o.bwrapPath)))
    return `bubblewrap is not installed (no executable ${o.bwrapPath}); ${INSTALL_FIX}`;
  let version = '';
  try {
    version = (await run(o.bwrapPath, ['--version'], { timeout: 10_000 })).stdout.trim();
  } catch (err) {
    return `${o.bwrapPath} --version failed: ${(err as Error).message}; ${INSTALL_FIX}`;
  }
  const parts = /(\d+)\.(\d+)\.(\d+)/.exec(version)?.slice(1).map(Number);
  if (!parts || older(parts, MIN_BWRAP))
    return `bubblewrap ${MIN_BWRAP.join('.')} or later is needed (for --disable-userns), found "${version}"`;
  return '';
}

function older(v: number[], min: number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    if ((v[i] ?? 0) !== min[i]!) return (v[i] ?? 0) < min[i]!;
  }
  return false;
}

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}
