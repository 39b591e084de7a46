import path from 'node:path';
import { systemClock, type BlobStore, type Clock, type MountRule } from '@shoal/core';
import type { DockerOptions } from '../docker/engine.js';
import { NATIVE_SPAWNER_PATH, SANDBOX_INIT_PATH } from './launch/native.js';

/**
 * How a Runner executes attempts.
 *
 * sandbox:
 * - 'bwrap' (default): every attempt runs in a bubblewrap sandbox, as an unprivileged uid, in namespaces
 *   and a cgroup of its own (see ../sandbox). Where the sandbox cannot work, attempts fail with
 *   SandboxUnavailable; a worker checks `prepare()` first and refuses to start.
 * - 'off': commands run directly as the agent's own user, unconfined: an explicit operator choice. An
 *   attempt mapping a path outside its working directory then fails with SandboxUnavailable.
 */
export interface RunnerOptions {
  /** Directory holding the attempts' working directories. Created if missing. */
  workRoot: string;
  blobs: BlobStore;
  /** Passed to commands as BATCH_COMPUTE_WORKER_ID. */
  workerId: string;
  sandbox?: 'bwrap' | 'off';
  /**
   * First host uid of the sandbox range: sandbox k runs as uid (and gid) sandboxUidBase + k. The range
   * must belong to nobody else on the machine. Default 2147400000. Only a root agent switches uids; an
   * unprivileged agent runs its sandboxes as itself.
   */
  sandboxUidBase?: number;
  /** Size of the uid range: how many sandboxes may exist at once; default 64. */
  sandboxUidCount?: number;
  /** Idle sandboxes kept warm for the next attempts of the same profile; default 4. */
  warmSandboxes?: number;
  /** Whether attempts get cgroups with their instance type's limits; default true where cgroups work. */
  cgroups?: boolean;
  /** The bubblewrap executable; default /usr/bin/bwrap. */
  bwrapPath?: string;
  /** Time between SIGTERM and SIGKILL of the process group on timeout or stop; default 2000. */
  killGraceMs?: number;
  /** Keep each attempt's working directory when it ends (for debugging); default false. */
  keepWorkDirs?: boolean;
  /** Source of AttemptResult.startedAtUs / endedAtUs; default the system clock. */
  clock?: Clock;
  /**
   * Start unsandboxed commands through a small helper process (default true): fork() from a large worker
   * process costs its main thread about a millisecond per command; the helper forks on another core.
   */
  spawner?: boolean;
  /** Host directories attempts may mount (nas:// and file:// Mounts); none by default. */
  allowedMounts?: readonly MountRule[];
  /** The Docker engine Docker images run on; none by default (tasks in Docker images then fail). */
  docker?: DockerOptions;
  /** Where root filesystem images are unpacked and kept; default `images` beside the work root. */
  imageCacheDir?: string;
  /** The compiled helpers (default: where `npm ci` builds them). */
  helperPath?: string;
  initPath?: string;
}

export interface ResolvedRunnerOptions {
  readonly workRoot: string;
  readonly blobs: BlobStore;
  readonly workerId: string;
  readonly sandbox: 'bwrap' | 'off';
  readonly sandboxUidBase: number;
  readonly sandboxUidCount: number;
  readonly warmSandboxes: number;
  readonly cgroups: boolean;
  readonly bwrapPath: string;
  readonly killGraceMs: number;
  readonly keepWorkDirs: boolean;
  readonly clock: Clock;
  readonly spawner: boolean;
  readonly imageCacheDir: string;
  readonly docker: DockerOptions | undefined;
  readonly allowedMounts: readonly MountRule[];
  readonly helperPath: string;
  readonly initPath: string;
}

export const DEFAULT_SANDBOX_UID_BASE = 2_147_400_000;

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min)
    throw new TypeError(`RunnerOptions.${name} must be an integer >= ${min}, got ${String(value)}`);
  return v;
}

export function resolveRunnerOptions(o: RunnerOptions): Readonly<ResolvedRunnerOptions> {
  if (typeof o.workRoot !== 'string' || o.workRoot === '')
    throw new TypeError('RunnerOptions.workRoot must be a directory path');
  if (typeof o.workerId !== 'string' || o.workerId === '')
    throw new TypeError('RunnerOptions.workerId must be a non-empty string');
  const sandbox = o.sandbox ?? 'bwrap';
  if (sandbox !== 'bwrap' && sandbox !== 'off')
    throw new TypeError(`RunnerOptions.sandbox must be bwrap or off, got ${String(sandbox)}`);
  const sandboxUidBase = count('sandboxUidBase', o.sandboxUidBase, DEFAULT_SANDBOX_UID_BASE, 1);
  const sandboxUidCount = count('sandboxUidCount', o.sandboxUidCount, 64, 1);
  if (sandboxUidBase + sandboxUidCount > 2 ** 32 - 2)
    throw new TypeError(`RunnerOptions.sandboxUidBase + sandboxUidCount must stay below 2^32 - 2`);
  const killGraceMs = o.killGraceMs ?? 2000;
  if (!Number.isFinite(killGraceMs) || killGraceMs < 0)
    throw new TypeError(`RunnerOptions.killGraceMs must be >= 0, got ${killGraceMs}`);
  return Object.freeze({
    workRoot: path.resolve(o.workRoot),
    blobs: o.blobs,
    workerId: o.workerId,
    sandbox,
    sandboxUidBase,
    sandboxUidCount,
    warmSandboxes: count('warmSandboxes', o.warmSandboxes, 4, 0),
    cgroups: o.cgroups ?? true,
    bwrapPath: o.bwrapPath ?? '/usr/bin/bwrap',
    killGraceMs,
    keepWorkDirs: o.keepWorkDirs ?? false,
    clock: o.clock ?? systemClock,
    spawner: o.spawner ?? true,
    docker: o.docker,
    allowedMounts: o.allowedMounts ?? [],
    imageCacheDir: path.resolve(
      o.imageCacheDir ?? path.join(path.dirname(path.resolve(o.workRoot)), 'images'),
    ),
    helperPath: o.helperPath ?? NATIVE_SPAWNER_PATH,
    initPath: o.initPath ?? SANDBOX_INIT_PATH,
  });
}
