/**
 * Attempts in Docker images: one container per attempt, from the worker's Docker engine, with the
 * environment of BatchCompute's Docker mode (seed 002: the package in /batchcompute/workdir, USER=root,
 * HOME=/root, PATH=/sbin:/usr/sbin:/bin:/usr/bin), the instance type's limits (memory and swap, CPUs,
 * processes), no new privileges, and the attempt's mappings bound at their paths.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Assignment } from '@shoal/core';
import type { Launcher } from '../runner/launch/types.js';
import { dirName } from '../runner/plain-site.js';
import type { ResolvedRunnerOptions } from '../runner/options.js';
import { supervise } from '../runner/process.js';
import { AttemptFailure, readTail } from '../runner/results.js';
import { supervision, type Site } from '../runner/site.js';
import { WORKDIR_VISIBLE } from '../sandbox/attempt-root.js';
import type { CheckedMount } from '../sandbox/host-mounts.js';
import { containerName, type DockerEngine } from './engine.js';

/** The environment's base in a container (seed 002, spec §7.6). */
export const DOCKER_ENV_BASE = Object.freeze({
  USER: 'root',
  HOME: '/root',
  PWD: WORKDIR_VISIBLE,
  PATH: '/sbin:/usr/sbin:/bin:/usr/bin',
  LANG: 'C.UTF-8',
});

export function workerLabel(workerId: string): string {
  return `shoal.worker=${workerId}`;
}

export async function dockerSite(
  a: Assignment,
  mounts: readonly CheckedMount[],
  engine: DockerEngine,
  launcher: Launcher,
  o: Readonly<ResolvedRunnerOptions>,
): Promise<Site> {
  await engine.ensureImage(a.image);
  const root = path.join(o.workRoot, 'docker');
  const workHost = path.join(root, dirName(a.attemptId));
  const stagePath = `${workHost}.stage`;
  await mkdir(root, { recursive: true, mode: 0o700 });
  await rm(workHost, { recursive: true, force: true });
  await mkdir(workHost, { mode: 0o755 });
  await mkdir(stagePath, { mode: 0o700 });
  const name = containerName(o.workerId, a.attemptId);
  return {
    kind: 'docker',
    workDirs: { visible: WORKDIR_VISIBLE, host: workHost },
    ids: undefined,
    envBase: DOCKER_ENV_BASE,
    stageDir: async () => stagePath,
    run: async (argv, env, binds, io, attempt) => {
      // The environment goes in a file (mode 0600), not on the docker CLI's command line, where every
      // user of the host could read it.
      const envFile = path.join(stagePath, '.env');
      await writeFile(envFile, envFileOf(env), { mode: 0o600 });
      const args = [
        ...engine.base,
        'run',
        '--name',
        name,
        '--label',
        workerLabel(o.workerId),
        '--init',
        '--security-opt',
        'no-new-privileges',
        '--network',
        attempt.networkAccess ? engine.network : 'none',
        '--memory',
        String(attempt.limits.memoryBytes),
        '--memory-swap',
        String(attempt.limits.memoryBytes),
        '--cpus',
        String(attempt.limits.cpuMillis / 1000),
        '--pids-limit',
        String(attempt.limits.processes),
        '--log-driver',
        'none',
        '--env-file',
        envFile,
        '--workdir',
        WORKDIR_VISIBLE,
        '--mount',
        mountArg(workHost, WORKDIR_VISIBLE, true),
        ...binds.flatMap((b) => ['--mount', mountArg(b.host, b.visible, b.writable)]),
        ...mounts.flatMap((m) => ['--mount', mountArg(m.hostPath, m.visible, m.writable)]),
        '--',
        attempt.image.source,
        ...argv,
      ];
      const outcome = await supervise(
        async (onExit) => {
          const started = await launcher.start(
            {
              file: engine.cli,
              args,
              cwd: root,
              env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: stagePath, DOCKER_CONFIG: stagePath },
              stdoutFile: io.stdoutFile,
              stderrFile: io.stderrFile,
            },
            onExit,
          );
          // Signals go to the container's processes, not to the docker CLI that waits for them.
          return {
            pid: started.pid,
            signal: (sig) => void engine.kill(name, sig === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM'),
          };
        },
        supervision(attempt, io, o.killGraceMs),
      );
      const state = await engine.inspect(name);
      await engine.remove(name);
      if (outcome.spawnError || outcome.ended !== 'exited') return outcome;
      // No container (exit 125: the engine refused it), or one whose command could not start: the
      // engine's own error, not the command's exit code.
      const engineError = !state
        ? outcome.exitCode === 125
          ? await readTail(io.stderrFile, 600)
          : ''
        : state.error || (await initError(outcome.exitCode, io.stderrFile));
      if (engineError) return { ...outcome, spawnError: startError(engineError, argv[0]!) };
      return state?.oomKilled ? { ...outcome, usage: { ...outcome.usage, oomKills: 1 } } : outcome;
    },
    finish: async () => {
      await engine.remove(name);
      if (o.keepWorkDirs) return;
      void rm(workHost, { recursive: true, force: true }).catch(() => undefined);
      void rm(stagePath, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/**
 * Docker's init (tini, pid 1 of the container: it reaps zombies and passes signals on) exits 126 or 127
 * when the command itself could not be executed, and says so on stderr.
 */
async function initError(code: number | null, stderrFile: string): Promise<string> {
  if (code !== 126 && code !== 127) return '';
  const tail = await readTail(stderrFile, 600);
  return /\[FATAL tini \(\d+\)\] exec .* failed: .*/.exec(tail)?.[0] ?? '';
}

/** The engine's complaint as the launch error it amounts to (the codes the runner turns into ErrorCodes). */
function startError(message: string, file: string): NodeJS.ErrnoException {
  const code = /executable file not found|no such file or directory/i.test(message)
    ? 'ENOENT'
    : /permission denied/i.test(message)
      ? 'EACCES'
      : 'ESANDBOX';
  const text = code === 'ESANDBOX' ? `the Docker engine could not run the container: ${message}` : message;
  return Object.assign(new Error(text), { code, path: file });
}

/** `--mount`'s CSV form: a field holding a comma or a quote is quoted. */
function mountArg(source: string, target: string, writable: boolean): string {
  const field = (text: string): string => (/[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  return [
    field(`type=bind`),
    field(`source=${source}`),
    field(`target=${target}`),
    ...(writable ? [] : ['readonly']),
  ].join(',');
}

function envFileOf(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (/[\r\n]/.test(v))
        throw new AttemptFailure(
          'CommandLineInvalid',
          `EnvVars value of ${k} holds a line break, which Docker cannot pass`,
        );
      return `${k}=${v}\n`;
    })
    .join('');
}
