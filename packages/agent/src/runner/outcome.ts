import type { AttemptLimits } from '@shoal/core';
import type { ProcessOutcome } from './process.js';
import { AttemptFailure } from './results.js';

export interface OutcomeContext {
  readonly argv0: string;
  readonly path: string;
  readonly kind: 'plain' | 'sandbox' | 'docker';
  readonly timeoutMs: number;
  /** The limits the attempt ran within (sandboxed attempts only). */
  readonly limits: AttemptLimits | undefined;
}

export interface InterpretedOutcome {
  readonly exitCode: number | null;
  readonly failure: AttemptFailure | undefined;
}

const MiB = 1024 * 1024;

/** Turns how the process ended into the attempt's exit code and error (undefined error = success). */
export function interpretOutcome(p: ProcessOutcome, ctx: OutcomeContext): InterpretedOutcome {
  if (p.spawnError) return { exitCode: null, failure: spawnFailure(p.spawnError, ctx) };
  if (p.lost)
    return { exitCode: null, failure: new AttemptFailure('InternalError', `${p.lost}; process tree killed`) };
  if (p.ended === 'timeout') {
    return {
      exitCode: p.exitCode,
      failure: new AttemptFailure('Timeout', `timed out after ${ctx.timeoutMs} ms; ${killed(ctx)}`),
    };
  }
  if (p.ended === 'stopped') {
    return {
      exitCode: p.exitCode,
      failure: new AttemptFailure(
        'Stopped',
        `stopped after ${p.durationMs} ms (job stopped); ${killed(ctx)}`,
      ),
    };
  }
  const failed = p.signal !== null || p.exitCode !== 0;
  // The limits explain a failure better than the signal or exit code they caused.
  if (failed && ctx.limits && p.usage.pidsHits > 0) {
    return {
      exitCode: p.exitCode,
      failure: new AttemptFailure(
        'ProcessLimitExceeded',
        `the attempt reached its limit of ${ctx.limits.processes} processes (instance type ${ctx.limits.instanceType}) and was ended`,
      ),
    };
  }
  if (failed && ctx.limits && p.usage.oomKills > 0) {
    return {
      exitCode: p.exitCode,
      failure: new AttemptFailure(
        'OutOfMemory',
        `the attempt used more than its memory limit of ${Math.round(ctx.limits.memoryBytes / MiB)} MiB ` +
          `(instance type ${ctx.limits.instanceType}); the kernel killed its largest process`,
      ),
    };
  }
  if (p.signal !== null) {
    return {
      exitCode: null,
      failure: new AttemptFailure('KilledBySignal', `command was killed by signal ${p.signal}`),
    };
  }
  if (p.exitCode !== 0) {
    return {
      exitCode: p.exitCode,
      failure: new AttemptFailure('NonZeroExitCode', `command exited with code ${p.exitCode}`),
    };
  }
  return { exitCode: p.exitCode, failure: undefined };
}

function killed(ctx: OutcomeContext): string {
  return ctx.kind === 'plain' ? 'its process group was killed' : 'every process of the attempt was killed';
}

function spawnFailure(err: NodeJS.ErrnoException, ctx: OutcomeContext): AttemptFailure {
  const cmd = JSON.stringify(ctx.argv0);
  const where = ctx.kind === 'plain' ? '' : ctx.kind === 'docker' ? ' in the image' : ' in the sandbox';
  switch (err.code) {
    case 'ESANDBOX':
      return new AttemptFailure(
        'SandboxUnavailable',
        `the attempt's sandbox could not be set up: ${err.message}`,
      );
    case 'ENOENT':
      return new AttemptFailure(
        'CommandNotFound',
        ctx.argv0.includes('/')
          ? `command ${cmd} not found${where} (no such file in the working directory, or its #! interpreter is missing)`
          : `command ${cmd} not found in PATH ${ctx.path}${where}`,
      );
    case 'EACCES':
      return new AttemptFailure(
        'CommandNotFound',
        `command ${cmd} is not executable${where} (permission denied)`,
      );
    case 'ENOTDIR':
    case 'ENOEXEC':
    case 'ELOOP':
      return new AttemptFailure(
        'CommandNotFound',
        `command ${cmd} cannot be executed${where}: ${err.message}`,
      );
    default:
      return new AttemptFailure('InternalError', `command ${cmd} could not be started: ${err.message}`);
  }
}
