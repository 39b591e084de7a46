import { constants } from 'node:os';
import type { ProcessOutcome } from './process.js';
import { AttemptFailure, readTail } from './results.js';

export interface OutcomeContext {
  readonly argv0: string;
  readonly path: string;
  readonly sandboxed: boolean;
  readonly timeoutMs: number;
  readonly stderrFile: string;
}

export interface InterpretedOutcome {
  readonly exitCode: number | null;
  readonly failure: AttemptFailure | undefined;
}

/** Turns how the process ended into the attempt's exit code and error (undefined error = success). */
export async function interpretOutcome(p: ProcessOutcome, ctx: OutcomeContext): Promise<InterpretedOutcome> {
  if (p.spawnError) return { exitCode: null, failure: spawnFailure(p.spawnError, ctx) };
  if (p.lost)
    return { exitCode: null, failure: new AttemptFailure('InternalError', `${p.lost}; process tree killed`) };
  if (p.ended === 'timeout') {
    return {
      exitCode: p.exitCode,
      failure: new AttemptFailure('Timeout', `timed out after ${ctx.timeoutMs} ms; process tree killed`),
    };
  }
  if (p.ended === 'stopped') {
    return {
      exitCode: p.exitCode,
      failure: new AttemptFailure(
        'Stopped',
        `stopped after ${p.durationMs} ms (job stopped); process tree killed`,
      ),
    };
  }
  let exitCode = p.exitCode;
  if (ctx.sandboxed && p.signal === null) {
    const reported = sandboxExitCode(p.status);
    if (reported === undefined) return { exitCode: null, failure: await sandboxFailure(ctx) };
    exitCode = reported;
  }
  if (p.signal !== null) {
    return {
      exitCode: null,
      failure: new AttemptFailure('KilledBySignal', `command was killed by signal ${p.signal}`),
    };
  }
  if (exitCode !== 0) {
    return {
      exitCode,
      failure: new AttemptFailure(
        'NonZeroExitCode',
        `command exited with code ${exitCode}${signalHint(exitCode, ctx)}`,
      ),
    };
  }
  return { exitCode, failure: undefined };
}

/** bwrap writes `{ "exit-code": N }` on its status fd only when the command itself ran. */
function sandboxExitCode(status: string): number | undefined {
  const m = /"exit-code"\s*:\s*(\d+)/.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** The command never ran inside the sandbox: bwrap's own last complaint says why. */
async function sandboxFailure(ctx: OutcomeContext): Promise<AttemptFailure> {
  const tail = await readTail(ctx.stderrFile, 4096);
  const line =
    tail
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('bwrap: ')) ?? 'bwrap: exited without running the command';
  const why = line.slice('bwrap: '.length);
  if (why.startsWith('execvp ')) {
    return new AttemptFailure(
      'CommandNotFound',
      `command ${ctx.argv0} could not be started in the sandbox: ${why.slice('execvp '.length)}`,
    );
  }
  return new AttemptFailure('SandboxUnavailable', `the sandbox could not be set up: ${why}`);
}

function spawnFailure(err: NodeJS.ErrnoException, ctx: OutcomeContext): AttemptFailure {
  const cmd = JSON.stringify(ctx.argv0);
  switch (err.code) {
    case 'ENOENT':
      return new AttemptFailure(
        'CommandNotFound',
        ctx.argv0.includes('/')
          ? `command ${cmd} not found (no such file in the working directory, or its #! interpreter is missing)`
          : `command ${cmd} not found in PATH ${ctx.path}`,
      );
    case 'EACCES':
      return new AttemptFailure('CommandNotFound', `command ${cmd} is not executable (permission denied)`);
    case 'ENOTDIR':
    case 'ENOEXEC':
    case 'ELOOP':
      return new AttemptFailure('CommandNotFound', `command ${cmd} cannot be executed: ${err.message}`);
    default:
      return new AttemptFailure('InternalError', `command ${cmd} could not be started: ${err.message}`);
  }
}

/** Through bwrap a command killed by signal N shows as exit code 128+N, as in a shell. */
function signalHint(code: number | null, ctx: OutcomeContext): string {
  if (!ctx.sandboxed || code === null || code <= 128) return '';
  const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
  return name ? ` (128+${code - 128}: probably killed by ${name})` : '';
}
