import { NO_USAGE, type ExitInfo, type Launched, type MeasuredUsage } from './launch/types.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** How a started command is watched over. */
export interface Supervision {
  /** 0 = no limit. */
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly signal: AbortSignal | undefined;
  readonly onSpawn: ((pid: number) => void) | undefined;
}

export interface ProcessOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  /** Why the runner ended the process, if it did. */
  readonly ended: 'exited' | 'timeout' | 'stopped';
  /** Set when the program could not be started at all (ENOENT, EACCES, ESANDBOX, ...). */
  readonly spawnError: NodeJS.ErrnoException | undefined;
  /** Set when the launcher lost track of the process; the outcome is unknown. */
  readonly lost?: string;
  readonly usage: MeasuredUsage;
}

/**
 * Starts a command through `start` and waits for its end. On timeout or abort the command gets SIGTERM,
 * then SIGKILL after killGraceMs, through its launcher: the process group of a plain command, every
 * process of a sandboxed attempt (its pid namespace and cgroup, so setsid cannot escape it).
 */
export async function supervise(
  start: (onExit: (exit: ExitInfo) => void) => Promise<Launched>,
  s: Supervision,
): Promise<ProcessOutcome> {
  const started = performance.now();
  let ended: ProcessOutcome['ended'] = 'exited';
  let exited = false;
  let timer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let launched: Launched | undefined;
  let resolveExit!: (exit: ExitInfo) => void;
  const exit = new Promise<ExitInfo>((resolve) => (resolveExit = resolve));

  const terminate = (why: 'timeout' | 'stopped'): void => {
    if (exited || ended !== 'exited') return;
    ended = why;
    launched?.signal('SIGTERM');
    graceTimer = setTimeout(() => launched?.signal('SIGKILL'), Math.min(s.killGraceMs, MAX_TIMER_MS));
  };
  const onAbort = (): void => terminate('stopped');

  try {
    launched = await start((info) => resolveExit(info));
  } catch (err) {
    return {
      exitCode: null,
      signal: null,
      durationMs: Math.round(performance.now() - started),
      ended: 'exited',
      spawnError: err as NodeJS.ErrnoException,
      usage: NO_USAGE,
    };
  }
  try {
    s.onSpawn?.(launched.pid);
  } catch {
    // The caller's bookkeeping must not break the run.
  }
  if (s.timeoutMs > 0) {
    const deadline = performance.now() + s.timeoutMs;
    // setTimeout fires at once for delays past 2^31-1 ms (~24.8 days): re-arm in steps instead.
    const arm = (): void => {
      const left = deadline - performance.now();
      if (left <= 0) terminate('timeout');
      else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    arm();
  }
  if (s.signal?.aborted) terminate('stopped');
  else s.signal?.addEventListener('abort', onAbort, { once: true });

  const info = await exit;
  exited = true;
  clearTimeout(timer);
  clearTimeout(graceTimer);
  s.signal?.removeEventListener('abort', onAbort);
  return {
    exitCode: info.code,
    signal: info.signal,
    durationMs: Math.round(performance.now() - started),
    ended,
    spawnError: undefined,
    usage: info.usage,
    ...(info.lost ? { lost: info.lost } : {}),
  };
}
