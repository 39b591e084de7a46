import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { SandboxIds } from './sandbox.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ProcessSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Open file descriptors handed to the child as stdout/stderr (no pipe through node). */
  readonly stdoutFd: number;
  readonly stderrFd: number;
  readonly ids: SandboxIds | undefined;
  /** 0 = no limit. */
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly signal: AbortSignal | undefined;
  readonly onSpawn: ((pid: number) => void) | undefined;
  /** Open a pipe as the child's fd 3 and collect what is written to it (bwrap's JSON status). */
  readonly statusPipe: boolean;
}

export interface ProcessOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  /** Why the runner ended the process, if it did. */
  readonly ended: 'exited' | 'timeout' | 'stopped';
  /** Set when the program could not be started at all (ENOENT, EACCES, ...). */
  readonly spawnError: NodeJS.ErrnoException | undefined;
  readonly status: string;
}

/**
 * Runs one process in its own process group (detached) so that the whole tree can be signalled. On
 * timeout or abort the group gets SIGTERM, then SIGKILL after killGraceMs. When the leader exits, whatever
 * is left in its group is killed too: an attempt's processes never outlive it.
 */
export function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  const started = performance.now();
  const stdio: StdioOptions = spec.statusPipe
    ? ['ignore', spec.stdoutFd, spec.stderrFd, 'pipe']
    : ['ignore', spec.stdoutFd, spec.stderrFd];
  let child: ChildProcess;
  try {
    child = spawn(spec.file, spec.args, { cwd: spec.cwd, env: spec.env, stdio, detached: true, ...spec.ids });
  } catch (err) {
    return Promise.resolve(notStarted(err as NodeJS.ErrnoException, started));
  }

  return new Promise<ProcessOutcome>((resolve) => {
    const pid = child.pid;
    let ended: ProcessOutcome['ended'] = 'exited';
    let exit: { code: number | null; signal: string | null } | undefined;
    let durationMs = 0;
    let status = '';
    let timer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const killGroup = (sig: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const terminate = (why: 'timeout' | 'stopped'): void => {
      if (exit || ended !== 'exited') return;
      ended = why;
      killGroup('SIGTERM');
      graceTimer = setTimeout(() => killGroup('SIGKILL'), Math.min(spec.killGraceMs, MAX_TIMER_MS));
    };
    const onAbort = (): void => terminate('stopped');
    const cleanup = (): void => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      spec.signal?.removeEventListener('abort', onAbort);
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (pid !== undefined) return; // errors after a successful spawn (e.g. kill failures) are not fatal
      cleanup();
      resolve(notStarted(err, started));
    });
    if (pid === undefined) return;

    const statusStream = child.stdio[3] as Readable | null | undefined;
    statusStream?.setEncoding('utf8');
    statusStream?.on('data', (d: string) => (status += d));
    child.on('exit', (code, sig) => {
      durationMs = Math.round(performance.now() - started);
      exit = { code, signal: sig };
      cleanup();
      killGroup('SIGKILL');
    });
    // 'close' follows 'exit' once the status pipe (if any) is drained.
    child.on('close', () => {
      cleanup();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        durationMs,
        ended,
        spawnError: undefined,
        status,
      });
    });

    try {
      spec.onSpawn?.(pid);
    } catch {
      // The caller's bookkeeping must not break the run.
    }
    if (spec.timeoutMs > 0) {
      const deadline = performance.now() + spec.timeoutMs;
      // setTimeout fires at once for delays past 2^31-1 ms (~24.8 days): re-arm in steps instead.
      const arm = (): void => {
        const left = deadline - performance.now();
        if (left <= 0) terminate('timeout');
        else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      };
      arm();
    }
    if (spec.signal?.aborted) terminate('stopped');
    else spec.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function notStarted(err: NodeJS.ErrnoException, started: number): ProcessOutcome {
  return {
    exitCode: null,
    signal: null,
    durationMs: Math.round(performance.now() - started),
    ended: 'exited',
    spawnError: err,
    status: '',
  };
}
