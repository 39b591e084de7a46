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
import type { ProcessOutcome } from './process.js';
import { PlainSites } from './plain-site.js';
import {
  AttemptFailure,
  asFailure,
  attemptResult,
  NOT_RUN,
  readTail,
  type CommandOutcome,
} from './results.js';
import type { AttemptIo, Site } from './site.js';
import { chownTree, hostPathOf, stageMappings, type Bind } from './staging.js';
import { uploadLogs, uploadOutputs, uploadStreams, type HostResolver, type UploadReport } from './uploads.js';
import { dockerSite, workerLabel } from '../docker/docker-site.js';
import { DockerEngine } from '../docker/engine.js';
import { RootfsCache } from '../images/rootfs-cache.js';
import { checkHostMounts } from '../sandbox/host-mounts.js';
import type { SandboxImage } from '../sandbox/outer.js';
import { SandboxRuntime, USERNS_FIX, type SandboxStatus } from '../sandbox/runtime.js';
import { sandboxSite } from '../sandbox/sandbox-site.js';

export type { AttemptIo } from './site.js';

/**
 * Executes attempts on this machine: fresh working directory, package, mappings, the command (in a warm
 * bubblewrap sandbox, or directly when the sandbox is off), then uploads. runAttempt never throws: every
 * failure, the user's or the machine's, comes back as an AttemptResult with an errorCode.
 */
export class Runner {
  readonly options: Readonly<ResolvedRunnerOptions>;
  private runtime: Promise<SandboxRuntime> | undefined;
  private status: Promise<SandboxStatus> | undefined;
  private readonly plain: PlainSites;
  private rootfs: RootfsCache | undefined;
  private readonly docker: DockerEngine | undefined;
  private dockerStatus: Promise<{ ok: boolean; reason: string }> | undefined;

  constructor(options: RunnerOptions) {
    this.options = resolveRunnerOptions(options);
    this.plain = new PlainSites(this.options);
    const o = this.options;
    if (o.docker) this.docker = new DockerEngine(o.docker, o.blobs, path.join(o.imageCacheDir, 'docker'));
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

  /** Whether Docker images can run here: a Docker engine is configured and answers. */
  dockerAvailable(): Promise<{ ok: boolean; reason: string }> {
    if (!this.docker) return Promise.resolve({ ok: false, reason: 'no Docker engine is configured' });
    this.dockerStatus ??= this.docker.probe().then(async (status) => {
      if (status.ok) await this.docker!.removeLeftovers(workerLabel(this.options.workerId));
      return status;
    });
    return this.dockerStatus;
  }

  /** How many warm sandboxes were opened so far and how many are open now. */
  async sandboxCounts(): Promise<{ opened: number; open: number }> {
    const pool = this.runtime ? (await this.runtime).pool : undefined;
    return { opened: pool?.opened ?? 0, open: pool?.size ?? 0 };
  }

  /**
   * Makes the uploads of ended attempts durable (one group flush on a grouped blob handle): called before
   * those attempts are reported, so an attempt reported Finished has its outputs and logs on disk.
   */
  async flushUploads(): Promise<void> {
    await this.options.blobs.flush?.();
  }

  /** Stops the helpers and their sandboxes; attempts still running are not waited for. */
  async close(): Promise<void> {
    await this.plain.close();
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
    this.plain.reset();
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
      if (site.kind === 'plain' && plan.firstOutside !== '') {
        throw new AttemptFailure(
          'SandboxUnavailable',
          `${plan.firstOutside} is outside the working directory, which needs the sandbox, but it is off ` +
            `(--sandbox off); map paths relative to the working directory, or run with the sandbox`,
        );
      }
      const env = attemptEnv(a, o.workerId, site.workDirs.visible, site.envBase);
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
        kind: site.kind,
        timeoutMs: a.timeoutMs,
        limits: site.kind === 'plain' ? undefined : a.limits,
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
    const usage = site?.kind === 'sandbox' && processOutcome ? usageOf(processOutcome) : undefined;
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
    if (this.options.sandbox === 'off') {
      if (a.image.kind !== 'System')
        throw new AttemptFailure(
          'ImageUnavailable',
          `the image ${a.image.id || a.image.source} needs the sandbox, but it is off (--sandbox off)`,
        );
      if (a.hostMounts.length)
        throw new AttemptFailure(
          'SandboxUnavailable',
          'Mounts need the sandbox, but it is off (--sandbox off)',
        );
      return this.plain.site(a);
    }
    const mounts = await checkHostMounts(a, this.options.allowedMounts);
    if (a.image.kind === 'Docker') {
      const docker = await this.dockerAvailable();
      if (!docker.ok || !this.docker)
        throw new AttemptFailure(
          'ImageUnavailable',
          `Docker image ${a.image.source} cannot run here: ${docker.reason}`,
        );
      const runtime = await this.runtimeOf();
      if (!runtime.launcher) throw new AttemptFailure('SandboxUnavailable', runtime.problem);
      return dockerSite(a, mounts, this.docker, runtime.launcher, this.options);
    }
    const status = await this.prepare();
    if (!status.ok)
      throw new AttemptFailure(
        'SandboxUnavailable',
        `the sandbox is unavailable on this worker: ${status.reason}`,
      );
    return sandboxSite(a, await this.sandboxImage(a), mounts, await this.runtimeOf(), this.options);
  }

  private runtimeOf(): Promise<SandboxRuntime> {
    this.runtime ??= SandboxRuntime.create(this.options);
    return this.runtime;
  }

  /** The image of a sandboxed attempt: the worker's OS, or a root filesystem unpacked on this worker. */
  private async sandboxImage(a: Assignment): Promise<SandboxImage> {
    if (a.image.kind === 'RootFs') {
      this.rootfs ??= new RootfsCache(this.options.imageCacheDir, this.options.blobs);
      return { kind: 'rootfs', dir: await this.rootfs.rootfsOf(a.image.source) };
    }
    return { kind: 'system' };
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
    const result = await this.execute(a, io, this.options.clock.nowUs(), () =>
      sandboxSite(a, { kind: 'system' }, [], runtime, this.options),
    );
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
    priority: 0,
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
    hostMounts: [],
  };
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
