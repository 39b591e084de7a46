import path from 'node:path';
import { systemClock, type BlobStore, type Clock } from '@shoal/core';

/**
 * How a Runner executes attempts.
 *
 * sandbox:
 * - 'auto' (default): commands whose mappings stay inside the working directory run directly as the
 *   agent's own user (the fast path); an attempt mapping a path outside it runs in a bubblewrap sandbox
 *   as `sandboxUid`/`sandboxGid`, or fails with SandboxUnavailable when bwrap does not work here.
 * - 'bwrap': every attempt runs in the sandbox (SandboxUnavailable when bwrap does not work).
 * - 'off': never sandbox; an attempt mapping a path outside its working directory fails with SandboxUnavailable.
 */
export interface RunnerOptions {
  /** Directory holding one working directory per running attempt. Created if missing. */
  workRoot: string;
  blobs: BlobStore;
  /** Passed to commands as BATCH_COMPUTE_WORKER_ID. */
  workerId: string;
  sandbox?: 'auto' | 'off' | 'bwrap';
  /** Unprivileged user the sandbox runs as; default 65534 (nobody). Never 0: bwrap started as root is no sandbox. */
  sandboxUid?: number;
  /** Default 65534 (nogroup). */
  sandboxGid?: number;
  /** Whether sandboxed commands may use the network (bwrap --share-net); default true, like the fast path. */
  sandboxNetwork?: boolean;
  /** The bubblewrap executable; default /usr/bin/bwrap. */
  bwrapPath?: string;
  /** Time between SIGTERM and SIGKILL of the process group on timeout or stop; default 2000. */
  killGraceMs?: number;
  /** Keep each attempt's working directory when it ends (for debugging); default false. */
  keepWorkDirs?: boolean;
  /** Source of AttemptResult.startedAtUs / endedAtUs; default the system clock. */
  clock?: Clock;
  /**
   * Start commands through a small helper process (default true): fork() from a large worker process
   * costs its main thread about a millisecond per command; the helper forks on another core.
   */
  spawner?: boolean;
}

export interface ResolvedRunnerOptions {
  readonly workRoot: string;
  readonly blobs: BlobStore;
  readonly workerId: string;
  readonly sandbox: 'auto' | 'off' | 'bwrap';
  readonly sandboxUid: number;
  readonly sandboxGid: number;
  readonly sandboxNetwork: boolean;
  readonly bwrapPath: string;
  readonly killGraceMs: number;
  readonly keepWorkDirs: boolean;
  readonly clock: Clock;
  readonly spawner: boolean;
}

const NOBODY = 65534;

export function resolveRunnerOptions(o: RunnerOptions): Readonly<ResolvedRunnerOptions> {
  if (typeof o.workRoot !== 'string' || o.workRoot === '')
    throw new TypeError('RunnerOptions.workRoot must be a directory path');
  if (typeof o.workerId !== 'string' || o.workerId === '')
    throw new TypeError('RunnerOptions.workerId must be a non-empty string');
  const sandbox = o.sandbox ?? 'auto';
  if (!['auto', 'off', 'bwrap'].includes(sandbox))
    throw new TypeError(`RunnerOptions.sandbox must be auto, off or bwrap, got ${String(sandbox)}`);
  const sandboxUid = o.sandboxUid ?? NOBODY;
  const sandboxGid = o.sandboxGid ?? NOBODY;
  for (const [name, id] of [
    ['sandboxUid', sandboxUid],
    ['sandboxGid', sandboxGid],
  ] as const) {
    if (!Number.isInteger(id) || id <= 0)
      throw new TypeError(`RunnerOptions.${name} must be a positive integer (not root), got ${id}`);
  }
  const killGraceMs = o.killGraceMs ?? 2000;
  if (!Number.isFinite(killGraceMs) || killGraceMs < 0)
    throw new TypeError(`RunnerOptions.killGraceMs must be >= 0, got ${killGraceMs}`);
  return Object.freeze({
    workRoot: path.resolve(o.workRoot),
    blobs: o.blobs,
    workerId: o.workerId,
    sandbox,
    sandboxUid,
    sandboxGid,
    sandboxNetwork: o.sandboxNetwork ?? true,
    bwrapPath: o.bwrapPath ?? '/usr/bin/bwrap',
    killGraceMs,
    keepWorkDirs: o.keepWorkDirs ?? false,
    clock: o.clock ?? systemClock,
    spawner: o.spawner ?? true,
  });
}
