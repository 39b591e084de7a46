import { chownSync, lstatSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { appendFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  CommandLineError,
  splitCommandLine,
  type Assignment,
  type AttemptResult,
  type AttemptUsage,
} from '@shoal/core';
import { attemptEnv } from './env.js';
import { planMappings, type MappingPlan, type WorkDirs } from './mappings.js';
import { resolveRunnerOptions, type ResolvedRunnerOptions, type RunnerOptions } from './options.js';
import { interpretOutcome } from './outcome.js';
import { stagePackage } from './package.js';
import { DirectLauncher } from './launch/direct.js';
import { NativeLauncher } from './launch/native.js';
import { SpawnerLauncher } from './launch/spawner.js';
import type { Launcher } from './launch/types.js';
import { supervise, type ProcessOutcome } from './process.js';
import {
  AttemptFailure,
  asFailure,
  attemptResult,
  NOT_RUN,
  readTail,
  type CommandOutcome,
} from './results.js';
import { chownTree, hostPathOf, stageMappings, type Bind, type SandboxIds } from './staging.js';
import { uploadLogs, uploadOutputs, uploadStreams, type HostResolver, type UploadReport } from './uploads.js';
import { attemptRootBase, attemptRootOps, WORKDIR_VISIBLE } from '../sandbox/attempt-root.js';
import { SLOT_INSIDE } from '../sandbox/outer.js';
import type { WarmSandbox } from '../sandbox/pool.js';
import { SandboxRuntime, USERNS_FIX, type SandboxStatus } from '../sandbox/runtime.js';

export interface AttemptIo {
  /** Files receiving the command's stdout and stderr (truncated first; may be the same file). */
  readonly stdoutFile: string;
  readonly stderrFile: string;
  /** Aborting stops the attempt: the process tree is killed and the result says 'Stopped'. */
  readonly signal?: AbortSignal;
  /** Called with the pid of a started plain command (also its process group id); 0 when sandboxed. */
  readonly onSpawn?: (pid: number) => void;
}

/** Where one attempt's files are and how its command is started: directly, or in a warm sandbox. */
interface Site {
  readonly workDirs: WorkDirs;
  readonly sandboxed: boolean;
  readonly ids: SandboxIds | undefined;
  stageDir(): Promise<string>;
  run(
    argv: string[],
    env: Record<string, string>,
    binds: readonly Bind[],
    io: AttemptIo,
    a: Assignment,
  ): Promise<ProcessOutcome>;
  /** After the uploads: remove the attempt's files, give its sandbox back. */
  finish(outcome: ProcessOutcome | undefined): Promise<void>;
}

const MAX_SPARE_WORK_DIRS = 64;

/**
 * Executes attempts on this machine: fresh working directory, package, mappings, the command (in a warm
 * bubblewrap sandbox, or directly when the sandbox is off), then uploads. runAttempt never throws: every
 * failure, the user's or the machine's, comes back as an AttemptResult with an errorCode.
 */
export class Runner {
  readonly options: Readonly<ResolvedRunnerOptions>;
  private runtime: Promise<SandboxRuntime> | undefined;
  private status: Promise<SandboxStatus> | undefined;
  private plainLauncher: Launcher | undefined;
  private workRootReady: Promise<unknown> | undefined;
  private attemptSeq = 0;
  /** Empty working directories of finished unsandboxed attempts, ready for the next ones. */
  private readonly spareWorkDirs: string[] = [];
  /** The mode a new working directory gets (umask applied), learnt from the first one. */
  private freshMode: number | undefined;

  constructor(options: RunnerOptions) {
    this.options = resolveRunnerOptions(options);
  }

  /**
   * Sets up and proves the sandbox (bwrap, cgroups, a real attempt in a warm sandbox); a worker calls it
   * before it takes work and refuses to start when it fails. Probed once per runner.
   */
  prepare(): Promise<SandboxStatus> {
    if (this.options.sandbox === 'off') {
      return Promise.resolve({
        ok: false,
        reason:
          "the sandbox is off (RunnerOptions.sandbox = 'off'): commands run unconfined as the agent's user",
        limits: false,
        limitsProblem: 'the sandbox is off',
        cgroupVersion: null,
      });
    }
    this.status ??= this.probe();
    return this.status;
  }

  /** Whether sandboxed attempts can run here (prepare's verdict). */
  async sandboxAvailable(): Promise<{ ok: boolean; reason: string }> {
    const { ok, reason } = await this.prepare();
    return { ok, reason };
  }

  /** How many warm sandboxes were opened so far and how many are open now. */
  async sandboxCounts(): Promise<{ opened: number; open: number }> {
    const pool = this.runtime ? (await this.runtime).pool : undefined;
    return { opened: pool?.opened ?? 0, open: pool?.size ?? 0 };
  }

  /** Stops the helpers and their sandboxes; attempts still running are not waited for. */
  async close(): Promise<void> {
    for (const dir of this.spareWorkDirs.splice(0)) await removeDir(dir);
    await this.plainLauncher?.close();
    if (this.runtime) await (await this.runtime).close();
    this.runtime = undefined;
    this.status = undefined;
  }

  /**
   * Empties the work root: what is there was left by a process that ended (a crash cut its attempts off).
   * Only for a runner that owns its work root, before it runs anything.
   */
  async clearWorkRoot(): Promise<void> {
    await rm(this.options.workRoot, { recursive: true, force: true });
    this.spareWorkDirs.length = 0;
    this.workRootReady = undefined;
  }

  async runAttempt(a: Assignment, io: AttemptIo): Promise<AttemptResult> {
    const startedAtUs = this.options.clock.nowUs();
    try {
      return await this.execute(a, io, startedAtUs);
    } catch (err) {
      // Only a bug gets here; the attempt still ends with a result the worker can report.
      const failure = asFailure(err);
      return attemptResult(a.attemptId, startedAtUs, this.options.clock.nowUs(), NOT_RUN, failure, '');
    }
  }

  private async execute(
    a: Assignment,
    io: AttemptIo,
    startedAtUs: number,
    makeSite = (): Promise<Site> => this.siteFor(a),
  ): Promise<AttemptResult> {
    const o = this.options;
    let outcome: CommandOutcome = NOT_RUN;
    let processOutcome: ProcessOutcome | undefined;
    let failure: AttemptFailure | undefined;
    let plan: MappingPlan | undefined;
    let binds: Bind[] = [];
    let site: Site | undefined;
    // The program was started (even if it then failed); before that there are no logs to collect.
    let started = false;
    const report: UploadReport = { failure: undefined, notes: [] };

    try {
      const argv = splitArgv(a.commandLine);
      site = await makeSite();
      plan = planMappings(a, site.workDirs);
      if (!site.sandboxed && plan.firstOutside !== '') {
        throw new AttemptFailure(
          'SandboxUnavailable',
          `${plan.firstOutside} is outside the working directory, which needs the sandbox, but it is off ` +
            `(--sandbox off); map paths relative to the working directory, or run with the sandbox`,
        );
      }
      const env = attemptEnv(a, o.workerId, site.workDirs.visible);
      checkNotStopped(io.signal);
      if (a.packagePath !== '')
        await stagePackage(o.blobs, a.packagePath, site.workDirs.host, () => site!.stageDir());
      binds = await stageMappings({ plan, blobs: o.blobs, stageDir: () => site!.stageDir(), ids: site.ids });
      // The working directory itself was made the sandbox user's; what staging put in it is given too.
      const stagedInside =
        a.packagePath !== '' || plan.inputs.some((i) => i.inside) || plan.outputs.some((o) => o.inside);
      if (site.ids && stagedInside) await chownTree(site.workDirs.host, site.ids);
      checkNotStopped(io.signal);

      processOutcome = await site.run(argv, env, binds, io, a);
      started = processOutcome.spawnError === undefined;
      const interpreted = interpretOutcome(processOutcome, {
        argv0: argv[0]!,
        path: env.PATH ?? '',
        sandboxed: site.sandboxed,
        timeoutMs: a.timeoutMs,
        limits: site.sandboxed ? a.limits : undefined,
      });
      outcome = {
        exitCode: interpreted.exitCode,
        signal: processOutcome.signal,
        durationMs: processOutcome.durationMs,
      };
      failure = interpreted.failure;
    } catch (err) {
      failure = asFailure(err);
    }

    // A command that never ran leaves the reason in its stderr log, where users look first.
    if (failure && !started) {
      await appendFile(io.stdoutFile, '').catch(() => undefined);
      await appendFile(io.stderrFile, `shoal: ${failure.message}\n`).catch(() => undefined);
    }

    if (plan && site) {
      const resolve = hostResolver(site.workDirs, binds);
      if (!failure && outcome.exitCode === 0) await uploadOutputs(plan, resolve, o.blobs, report);
      if (started) await uploadLogs(plan, resolve, o.blobs, a, report);
    }
    await uploadStreams(a, io, o.blobs, report);
    failure ??= report.failure;

    const detail: string[] = [...report.notes];
    if (failure && started && failure.code !== 'Timeout' && failure.code !== 'Stopped') {
      const tail = await readTail(io.stderrFile, 1024);
      if (tail) detail.push(`stderr (last lines):\n${tail}`);
    }
    await site?.finish(processOutcome);
    const usage = site?.sandboxed && processOutcome ? usageOf(processOutcome) : undefined;
    return attemptResult(
      a.attemptId,
      startedAtUs,
      o.clock.nowUs(),
      outcome,
      failure,
      detail.join('\n'),
      usage,
    );
  }

  private async siteFor(a: Assignment): Promise<Site> {
    if (this.options.sandbox === 'off') return this.plainSite(a);
    const status = await this.prepare();
    if (!status.ok)
      throw new AttemptFailure(
        'SandboxUnavailable',
        `the sandbox is unavailable on this worker: ${status.reason}`,
      );
    return this.sandboxSite(a, await this.runtimeOf());
  }

  private runtimeOf(): Promise<SandboxRuntime> {
    this.runtime ??= SandboxRuntime.create(this.options);
    return this.runtime;
  }

  /** Runs a trivial attempt through the whole sandbox path: the parts exist and really work together. */
  private async probe(): Promise<SandboxStatus> {
    const runtime = await this.runtimeOf();
    const base = { limits: false, limitsProblem: runtime.limitsProblem, cgroupVersion: null } as const;
    if (runtime.problem) return { ok: false, reason: runtime.problem, ...base };
    await mkdir(this.options.workRoot, { recursive: true, mode: 0o700 });
    const io = {
      stdoutFile: path.join(this.options.workRoot, 'probe.out'),
      stderrFile: path.join(this.options.workRoot, 'probe.err'),
    };
    const a = probeAssignment();
    const result = await this.execute(a, io, this.options.clock.nowUs(), () => this.sandboxSite(a, runtime));
    await rm(io.stdoutFile, { force: true });
    await rm(io.stderrFile, { force: true });
    const limits = runtime.cgroups !== undefined;
    const cgroupVersion = runtime.cgroups?.version ?? null;
    if (result.errorCode !== '') {
      const hint = /namespace|permission|Operation not permitted/i.test(result.errorMessage)
        ? `; ${USERNS_FIX}`
        : '';
      return { ok: false, reason: `a test attempt failed: ${result.errorMessage}${hint}`, ...base };
    }
    const who = process.getuid?.() === 0 ? `uids from ${this.options.sandboxUidBase}` : 'the agent user';
    const how = limits ? `cgroup v${cgroupVersion} limits` : `no limits (${runtime.limitsProblem})`;
    return {
      ok: true,
      reason: `bubblewrap sandbox as ${who}, ${how}`,
      limits,
      limitsProblem: runtime.limitsProblem,
      cgroupVersion,
    };
  }

  private async sandboxSite(a: Assignment, runtime: SandboxRuntime): Promise<Site> {
    const o = this.options;
    const pool = runtime.pool!;
    const launcher = runtime.launcher!;
    const sb: WarmSandbox = await pool.acquire({ ownerId: a.ownerId, networkAccess: a.networkAccess });
    const n = ++this.attemptSeq;
    const ids = process.getuid?.() === 0 ? { uid: sb.uid, gid: sb.uid } : undefined;
    // The empty working directory of the sandbox's last attempt is reused when it is as good as new:
    // mkdir and rmdir are journalled metadata operations, a large part of a short attempt's cost.
    const spare = o.keepWorkDirs ? undefined : sb.spareWorkDir;
    sb.spareWorkDir = undefined;
    const workHost = spare ?? path.join(sb.slotDir, `w${n}`);
    const stagePath = path.join(sb.slotDir, `s${n}`);
    let staged: Promise<string> | undefined;
    if (!spare) {
      try {
        // Synchronous on purpose: a few microseconds, on every attempt's critical path.
        mkdirSync(workHost, { mode: 0o700 });
        if (ids) chownSync(workHost, ids.uid, ids.gid);
      } catch (err) {
        pool.release(sb, false);
        throw err;
      }
    }
    const inside = (host: string): string => SLOT_INSIDE + host.slice(sb.slotDir.length);
    return {
      workDirs: { visible: WORKDIR_VISIBLE, host: workHost },
      sandboxed: true,
      ids,
      stageDir: () => (staged ??= mkdir(stagePath, { mode: 0o711 }).then(() => stagePath)),
      run: (argv, env, binds, io, attempt) =>
        supervise(
          (onExit) =>
            launcher.run(
              {
                sandboxId: sb.id,
                stdoutFile: io.stdoutFile,
                stderrFile: io.stderrFile,
                cgroupName: runtime.cgroups ? `${sb.id}-a${n}` : '',
                limits: {
                  memoryBytes: attempt.limits.memoryBytes,
                  cpuMillis: attempt.limits.cpuMillis,
                  pids: attempt.limits.processes,
                },
                cwd: WORKDIR_VISIBLE,
                base: attemptRootBase(),
                ops: attemptRootOps(
                  inside(workHost),
                  binds.map((b) => ({ source: inside(b.host), visible: b.visible, writable: b.writable })),
                ),
                argv,
                env,
              },
              onExit,
            ),
          {
            timeoutMs: attempt.timeoutMs,
            killGraceMs: o.killGraceMs,
            signal: io.signal,
            onSpawn: io.onSpawn,
          },
        ),
      finish: async (p) => {
        // Nothing of the attempt runs any more: its files can go, in the background (the result need
        // not wait for that), unless the working directory is still empty and can serve the next one.
        if (!o.keepWorkDirs) {
          if (asFreshFor(workHost, sb.uid)) sb.spareWorkDir = workHost;
          else void rm(workHost, { recursive: true, force: true }).catch(() => undefined);
          if (staged) void rm(stagePath, { recursive: true, force: true }).catch(() => undefined);
        }
        pool.release(sb, p?.lost === undefined && !sb.dead);
      },
    };
  }

  private async plainSite(a: Assignment): Promise<Site> {
    const o = this.options;
    // A clean directory left by an earlier attempt is reused when there is one: mkdir and rmdir are
    // journalled metadata operations, the most expensive part of a short attempt on the main thread.
    const spare = o.keepWorkDirs ? undefined : this.spareWorkDirs.pop();
    const workDir = spare ?? path.join(o.workRoot, dirName(a.attemptId));
    const stagePath = `${workDir}.stage`;
    let staged: Promise<string> | undefined;
    if (!spare) await this.makeWorkDir(workDir);
    return {
      workDirs: { visible: workDir, host: workDir },
      sandboxed: false,
      ids: undefined,
      stageDir: () => (staged ??= mkdir(stagePath, { recursive: true }).then(() => stagePath)),
      run: (argv, env, _binds, io, attempt) => {
        const launcher = this.launcherForPlain();
        return supervise(
          (onExit) =>
            launcher.start(
              {
                file: argv[0]!,
                args: argv.slice(1),
                cwd: workDir,
                env,
                stdoutFile: io.stdoutFile,
                stderrFile: io.stderrFile,
              },
              onExit,
            ),
          {
            timeoutMs: attempt.timeoutMs,
            killGraceMs: o.killGraceMs,
            signal: io.signal,
            onSpawn: io.onSpawn,
          },
        );
      },
      finish: async () => {
        if (o.keepWorkDirs) return;
        if (this.spareWorkDirs.length < MAX_SPARE_WORK_DIRS && this.asFresh(workDir))
          this.spareWorkDirs.push(workDir);
        else await removeDir(workDir);
        if (staged) await rm(stagePath, { recursive: true, force: true }).catch(() => undefined);
      },
    };
  }

  private launcherForPlain(): Launcher {
    if (this.plainLauncher) return this.plainLauncher;
    const o = this.options;
    if (!o.spawner) this.plainLauncher = new DirectLauncher();
    else if (NativeLauncher.available(o.helperPath)) this.plainLauncher = new NativeLauncher(o.helperPath);
    else this.plainLauncher = new SpawnerLauncher();
    return this.plainLauncher;
  }

  /** Whether a used working directory is as good as a new one: ours, with a new one's mode, empty. */
  private asFresh(dir: string): boolean {
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || st.uid !== process.getuid?.() || this.freshMode === undefined) return false;
      return (st.mode & 0o7777) === this.freshMode && readdirSync(dir).length === 0;
    } catch {
      return false;
    }
  }

  private async makeWorkDir(workDir: string): Promise<void> {
    await (this.workRootReady ??= mkdir(this.options.workRoot, { recursive: true }));
    try {
      // Synchronous on purpose: one mkdir costs microseconds, a thread-pool round trip costs more, and it
      // sits on every attempt's critical path.
      mkdirSync(workDir);
      this.freshMode ??= lstatSync(workDir).mode & 0o7777;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Left over by a run of the same attempt that crashed: start clean.
      await rm(workDir, { recursive: true, force: true });
      await mkdir(workDir);
    }
  }
}

/** Whether a sandboxed attempt's working directory is as good as a new one: still its, 0700, empty. */
function asFreshFor(dir: string, uid: number): boolean {
  try {
    const st = lstatSync(dir);
    const owner = process.getuid?.() === 0 ? uid : process.getuid?.();
    if (!st.isDirectory() || st.uid !== owner || (st.mode & 0o7777) !== 0o700) return false;
    return readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

function usageOf(p: ProcessOutcome): AttemptUsage {
  return {
    cpuMs: p.usage.cpuUs >= 0 ? Math.round(p.usage.cpuUs / 1000) : null,
    peakMemoryBytes: p.usage.peakBytes >= 0 ? p.usage.peakBytes : null,
  };
}

/** A trivial attempt that exercises the whole sandbox path, with small but real limits. */
function probeAssignment(): Assignment {
  return {
    attemptId: 'probe',
    ownerId: 0,
    jobId: 'probe',
    taskName: 'probe',
    instanceId: 0,
    instanceCount: 1,
    attemptNo: 1,
    commandLine: '/bin/sh -c true',
    packagePath: '',
    envVars: {},
    timeoutMs: 30_000,
    inputMappings: [],
    outputMappings: [],
    logMappings: [],
    stdoutRedirectPath: '',
    stderrRedirectPath: '',
    clusterId: 'probe',
    region: 'probe',
    ossHost: '',
    limits: { instanceType: 'probe', cpuMillis: 1000, memoryBytes: 256 * 1024 * 1024, processes: 64 },
    networkAccess: false,
    image: { id: 'img-ubuntu', kind: 'System', source: '', archive: '' },
  };
}

/** rmdir first: the working directory of a short command is often empty, and rm -r costs several calls. */
async function removeDir(dir: string): Promise<void> {
  try {
    rmdirSync(dir); // synchronous for the same reason as the mkdir in makeWorkDir
  } catch {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function splitArgv(commandLine: string): string[] {
  let argv: string[];
  try {
    argv = splitCommandLine(commandLine);
  } catch (err) {
    if (err instanceof CommandLineError)
      throw new AttemptFailure('CommandLineInvalid', `command line is invalid: ${err.message}`);
    throw err;
  }
  if (argv.length === 0) throw new AttemptFailure('CommandLineInvalid', 'command line is empty');
  return argv;
}

function checkNotStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new AttemptFailure('Stopped', 'stopped before the command started (job stopped)');
}

function hostResolver(workDirs: WorkDirs, binds: readonly Bind[]): HostResolver {
  const all: Bind[] = [{ host: workDirs.host, visible: workDirs.visible, writable: true }, ...binds];
  return (visible) => {
    const hit = hostPathOf(all, visible);
    return hit ? { host: hit.host, root: hit.bind.host } : undefined;
  };
}

/** Attempt ids are `<jobId>.<task>.<iid>.<n>`; anything else is made safe for a directory name. */
function dirName(attemptId: string): string {
  const safe = attemptId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
  return safe === '' || safe.startsWith('.') ? `a${safe}` : safe;
}
