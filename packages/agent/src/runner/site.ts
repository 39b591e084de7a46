/**
 * Where one attempt's files are and how its command is started: directly (the sandbox off), in a warm
 * bubblewrap sandbox, or in a Docker container. The runner stages, runs and uploads the same way for all.
 */
import type { Assignment } from '@shoal/core';
import type { WorkDirs } from './mappings.js';
import type { ProcessOutcome, Supervision } from './process.js';
import type { Bind, SandboxIds } from './staging.js';

export interface AttemptIo {
  /** Files receiving the command's stdout and stderr (truncated first; may be the same file). */
  readonly stdoutFile: string;
  readonly stderrFile: string;
  /** Aborting stops the attempt: the process tree is killed and the result says 'Stopped'. */
  readonly signal?: AbortSignal;
  /** Called with the pid of a started plain command (also its process group id); 0 otherwise. */
  readonly onSpawn?: (pid: number) => void;
}

export interface Site {
  readonly kind: 'plain' | 'sandbox' | 'docker';
  readonly workDirs: WorkDirs;
  /** Who writes the attempt's writable directories on the host, when not the agent itself. */
  readonly ids: SandboxIds | undefined;
  /** The environment's base for this kind (PATH, HOME, ...), before EnvVars and BATCH_COMPUTE_*. */
  readonly envBase?: Readonly<Record<string, string>>;
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

export function supervision(a: Assignment, io: AttemptIo, killGraceMs: number): Supervision {
  return { timeoutMs: a.timeoutMs, killGraceMs, signal: io.signal, onSpawn: io.onSpawn };
}
