import type { ExitInfo, Launcher, LaunchRequest } from './launch/types.js';
import type { SandboxIds } from './sandbox.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** What to launch (the launcher's request, with the sandbox user as one field) and how to supervise it. */
export interface ProcessSpec extends Omit<LaunchRequest, 'uid' | 'gid'> {
  readonly ids: SandboxIds | undefined;
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
  /** Set when the program could not be started at all (ENOENT, EACCES, ...). */
  readonly spawnError: NodeJS.ErrnoException | undefined;
  readonly status: string;
  /** Set when the launcher lost track of the process; the outcome is unknown. */
  readonly lost?: string;
}

/**
 * Runs one process in its own process group (detached) so that the whole tree can be signalled. On
 * timeout or abort the group gets SIGTERM, then SIGKILL after killGraceMs. When the leader exits, whatever
 * is left in its group is killed too (by the launcher): an attempt's processes never outlive it.
 */
export async function runProcess(spec: ProcessSpec, launcher: Launcher): Promise<ProcessOutcome> {
  const started = performance.now();
  let ended: ProcessOutcome['ended'] = 'exited';
  let exited = false;
  let timer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let pid: number | undefined;
  let resolveExit!: (exit: ExitInfo) => void;
  const exit = new Promise<ExitInfo>((resolve) => (resolveExit = resolve));

  const killGroup = (sig: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  const terminate = (why: 'timeout' | 'stopped'): void => {
    if (exited || ended !== 'exited') return;
    ended = why;
    killGroup('SIGTERM');
    graceTimer = setTimeout(() => killGroup('SIGKILL'), Math.min(spec.killGraceMs, MAX_TIMER_MS));
  };
  const onAbort = (): void => terminate('stopped');

  try {
    pid = await launcher.start(
      {
        file: spec.file,
        args: spec.args,
        cwd: spec.cwd,
        env: spec.env,
        stdoutFile: spec.stdoutFile,
        stderrFile: spec.stderrFile,
        ...(spec.ids ? { uid: spec.ids.uid, gid: spec.ids.gid } : {}),
        statusPipe: spec.statusPipe,
      },
      (info) => resolveExit(info),
    );
  } catch (err) {
    return notStarted(err as NodeJS.ErrnoException, started);
  }
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

  const info = await exit;
  exited = true;
  clearTimeout(timer);
  clearTimeout(graceTimer);
  spec.signal?.removeEventListener('abort', onAbort);
  return {
    exitCode: info.code,
    signal: info.signal,
    durationMs: Math.round(performance.now() - started),
    ended,
    spawnError: undefined,
    status: info.status,
    ...(info.lost ? { lost: info.lost } : {}),
  };
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
