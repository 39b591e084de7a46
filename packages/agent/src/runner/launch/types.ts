/**
 * Launchers start a command detached (its own process group) with stdout/stderr going straight to files,
 * and report its exit. Timeouts and cancellation stay with the caller, which signals the command through
 * the launcher.
 */
export interface LaunchRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Opened (created or truncated) by the launcher; may be the same path. */
  readonly stdoutFile: string;
  readonly stderrFile: string;
}

/** What an attempt's cgroup measured; -1 where nothing was measured. */
export interface MeasuredUsage {
  readonly cpuUs: number;
  readonly peakBytes: number;
  readonly oomKills: number;
  /** Times a fork failed because the process limit was reached (the attempt is then ended). */
  readonly pidsHits: number;
}

export const NO_USAGE: MeasuredUsage = Object.freeze({
  cpuUs: -1,
  peakBytes: -1,
  oomKills: -1,
  pidsHits: -1,
});

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  /** Set when the launcher lost track of the process (its helper or sandbox died): outcome unknown. */
  readonly lost?: string;
  readonly usage: MeasuredUsage;
}

/** A spawn failure, shaped like Node's ErrnoException so callers can read `code` (ENOENT, EACCES, ...). */
export interface LaunchError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

/** A started command, as its launcher knows it. */
export interface Launched {
  /** The pid (also the process group id) of a plain command; 0 inside a sandbox. */
  readonly pid: number;
  /** Signals the whole command: its process group, or every process of a sandboxed attempt. */
  signal(sig: NodeJS.Signals): void;
}

export interface Launcher {
  /** Starts the process; resolves once it runs, or rejects with a LaunchError. */
  start(request: LaunchRequest, onExit: (exit: ExitInfo) => void): Promise<Launched>;
  close(): Promise<void>;
}

/** Signals a plain command's process group from this process. */
export function groupSignaller(pid: number): Launched {
  return {
    pid,
    signal(sig) {
      try {
        process.kill(-pid, sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    },
  };
}
