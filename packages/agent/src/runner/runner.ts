import { lstatSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { appendFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { CommandLineError, splitCommandLine, type Assignment, type AttemptResult } from '@shoal/core';
import { attemptEnv } from './env.js';
import { planMappings, type MappingPlan } from './mappings.js';
import { resolveRunnerOptions, type ResolvedRunnerOptions, type RunnerOptions } from './options.js';
import { interpretOutcome } from './outcome.js';
import { stagePackage } from './package.js';
import { DirectLauncher } from './launch/direct.js';
import { NativeLauncher } from './launch/native.js';
import { SpawnerLauncher } from './launch/spawner.js';
import type { Launcher } from './launch/types.js';
import { runProcess } from './process.js';
import {
  AttemptFailure,
  asFailure,
  attemptResult,
  NOT_RUN,
  readTail,
  type CommandOutcome,
} from './results.js';
import {
  bwrapArgs,
  hostPathOf,
  probeSandbox,
  SANDBOX_FIX,
  type Bind,
  type SandboxIds,
  type SandboxProbe,
} from './sandbox.js';
import { chownTree, stageMappings } from './staging.js';
import { uploadLogs, uploadOutputs, uploadStreams, type HostResolver, type UploadReport } from './uploads.js';

export interface AttemptIo {
  /** Files receiving the command's stdout and stderr (truncated first; may be the same file). */
  readonly stdoutFile: string;
  readonly stderrFile: string;
  /** Aborting stops the attempt: the process tree is killed and the result says 'Stopped'. */
  readonly signal?: AbortSignal;
  /** Called with the pid of the started process, which is also its process group id. */
  readonly onSpawn?: (pid: number) => void;
}

const STATUS_FD = 3;
const MAX_SPARE_WORK_DIRS = 64;

/**
 * Executes attempts on this machine: fresh working directory, package, mappings, the command (directly or
 * in a bubblewrap sandbox), then uploads. runAttempt never throws: every failure, the user's or the
 * machine's, comes back as an AttemptResult with an errorCode.
 */
export class Runner {
  readonly options: Readonly<ResolvedRunnerOptions>;
  private probe: Promise<SandboxProbe> | undefined;
  private workRootReady: Promise<unknown> | undefined;

  private readonly launcher: Launcher;
  /** Empty working directories of finished attempts, ready for the next ones. */
  private readonly spareWorkDirs: string[] = [];
  /** The mode a new working directory gets (umask applied), learnt from the first one. */
  private freshMode: number | undefined;

  constructor(options: RunnerOptions) {
    this.options = resolveRunnerOptions(options);
    if (!this.options.spawner) this.launcher = new DirectLauncher();
    else this.launcher = NativeLauncher.available() ? new NativeLauncher() : new SpawnerLauncher();
  }

  /**
   * Stops the spawn helper and removes the spare working directories. Attempts still running are not
   * waited for.
   */
  async close(): Promise<void> {
    for (const dir of this.spareWorkDirs.splice(0)) await removeDir(dir);
    await this.launcher.close();
  }

  /**
   * Empties the work root: what is there was left by a process that ended (a crash cut its attempts off).
   * Only for a runner that owns its work root, before it runs anything.
   */
  async clearWorkRoot(): Promise<void> {
    await rm(this.options.workRoot, { recursive: true, force: true });
    this.spareWorkDirs.length = 0;
    this.workRootReady = undefined;
    this.probe = undefined; // the probe also prepares the work root's permissions
  }

  /** Whether sandboxed attempts can run here; probed once per runner. */
  async sandboxAvailable(): Promise<{ ok: boolean; reason: string }> {
    if (this.options.sandbox === 'off')
      return { ok: false, reason: "the sandbox is off (RunnerOptions.sandbox = 'off')" };
    const { ok, reason } = await this.sandboxProbe();
    return { ok, reason };
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

  private async execute(a: Assignment, io: AttemptIo, startedAtUs: number): Promise<AttemptResult> {
    const o = this.options;
    // A clean directory left by an earlier attempt is reused when there is one: mkdir and rmdir are
    // journalled metadata operations, the most expensive part of a short attempt on the main thread.
    const spare = o.keepWorkDirs ? undefined : this.spareWorkDirs.pop();
    const workDir = spare ?? path.join(o.workRoot, dirName(a.attemptId));
    const stagePath = `${workDir}.stage`;
    let staged: Promise<string> | undefined;
    const stageDir = (): Promise<string> =>
      (staged ??= mkdir(stagePath, { recursive: true }).then(() => stagePath));
    let outcome: CommandOutcome = NOT_RUN;
    let failure: AttemptFailure | undefined;
    let plan: MappingPlan | undefined;
    let binds: Bind[] = [];
    let workDirMade = spare !== undefined;
    let sandboxed = false;
    // The program was started (even if it then failed); before that there are no logs to collect.
    let started = false;
    const report: UploadReport = { failure: undefined, notes: [] };

    try {
      const argv = splitArgv(a.commandLine);
      plan = planMappings(a, workDir);
      const env = attemptEnv(a, o.workerId, workDir);
      const sandbox = await this.chooseSandbox(plan);
      const ids = sandbox ? sandboxIds(o) : undefined;
      sandboxed = sandbox !== undefined;
      checkNotStopped(io.signal);

      if (!spare) {
        await this.makeWorkDir(workDir);
        workDirMade = true;
      }
      if (a.packagePath !== '') await stagePackage(o.blobs, a.packagePath, workDir, stageDir);
      binds = await stageMappings({ plan, blobs: o.blobs, stageDir, ids });
      if (ids) {
        await chownTree(workDir, ids);
        if (staged) await chownTree(await staged, ids);
      }
      checkNotStopped(io.signal);

      const p = await runProcess(
        {
          file: sandbox ? o.bwrapPath : argv[0]!,
          args: sandbox
            ? bwrapArgs({
                systemArgs: sandbox.systemArgs,
                workDir,
                binds,
                network: o.sandboxNetwork,
                argv,
                statusFd: STATUS_FD,
              })
            : argv.slice(1),
          cwd: workDir,
          env,
          stdoutFile: io.stdoutFile,
          stderrFile: io.stderrFile,
          ids,
          timeoutMs: a.timeoutMs,
          killGraceMs: o.killGraceMs,
          signal: io.signal,
          onSpawn: io.onSpawn,
          statusPipe: sandbox !== undefined,
        },
        this.launcher,
      );
      started = p.spawnError === undefined;
      const ctx = {
        argv0: argv[0]!,
        path: env.PATH ?? '',
        sandboxed: sandbox !== undefined,
        timeoutMs: a.timeoutMs,
        stderrFile: io.stderrFile,
      };
      const interpreted = await interpretOutcome(p, ctx);
      outcome = { exitCode: interpreted.exitCode, signal: p.signal, durationMs: p.durationMs };
      failure = interpreted.failure;
    } catch (err) {
      failure = asFailure(err);
    }

    // A command that never ran leaves the reason in its stderr log, where users look first.
    if (failure && !started) {
      await appendFile(io.stdoutFile, '').catch(() => undefined);
      await appendFile(io.stderrFile, `shoal: ${failure.message}\n`).catch(() => undefined);
    }

    const resolve = hostResolver(workDir, binds);
    if (plan) {
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
    if (!o.keepWorkDirs) {
      if (workDirMade) {
        if (!sandboxed && this.spareWorkDirs.length < MAX_SPARE_WORK_DIRS && this.asFresh(workDir)) {
          this.spareWorkDirs.push(workDir);
        } else {
          await removeDir(workDir);
        }
      }
      if (staged) await rm(stagePath, { recursive: true, force: true }).catch(() => undefined);
    }
    return attemptResult(a.attemptId, startedAtUs, o.clock.nowUs(), outcome, failure, detail.join('\n'));
  }

  /** undefined: run directly. A probe: run in bwrap (it works). Throws SandboxUnavailable otherwise. */
  private async chooseSandbox(plan: MappingPlan): Promise<SandboxProbe | undefined> {
    const o = this.options;
    const outside = plan.firstOutside;
    if (o.sandbox === 'off' || (o.sandbox === 'auto' && outside === '')) {
      if (outside === '') return undefined;
      throw new AttemptFailure(
        'SandboxUnavailable',
        `${outside} is outside the working directory, which needs a private mount namespace, but the sandbox is off ` +
          `(RunnerOptions.sandbox = 'off'). Fix: ${SANDBOX_FIX}; or map paths relative to the working directory`,
      );
    }
    const probe = await this.sandboxProbe();
    if (probe.ok) return probe;
    const why =
      outside === '' ? "the runner's sandbox mode is 'bwrap'" : `${outside} is outside the working directory`;
    throw new AttemptFailure(
      'SandboxUnavailable',
      `${why}, which needs a bubblewrap sandbox, but it is unavailable: ${probe.reason}`,
    );
  }

  private sandboxProbe(): Promise<SandboxProbe> {
    const o = this.options;
    this.probe ??= probeSandbox({ bwrapPath: o.bwrapPath, workRoot: o.workRoot, ids: sandboxIds(o) }).catch(
      (err: unknown) => ({
        ok: false,
        reason: `probe failed: ${err instanceof Error ? err.message : String(err)}`,
        systemArgs: [],
      }),
    );
    return this.probe;
  }

  /**
   * Whether a used working directory is as good as a new one: still a directory of ours, with the mode a
   * new one gets, and empty. (Sandboxed attempts change its owner, so theirs are never reused.)
   */
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

/** Dropping to another uid needs root; an unprivileged agent runs bwrap as itself. */
function sandboxIds(o: ResolvedRunnerOptions): SandboxIds | undefined {
  return process.getuid?.() === 0 ? { uid: o.sandboxUid, gid: o.sandboxGid } : undefined;
}

function checkNotStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new AttemptFailure('Stopped', 'stopped before the command started (job stopped)');
}

function hostResolver(workDir: string, binds: readonly Bind[]): HostResolver {
  const all: Bind[] = [{ host: workDir, visible: workDir, writable: true }, ...binds];
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
