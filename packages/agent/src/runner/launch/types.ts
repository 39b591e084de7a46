/**
 * Launchers start a command detached (its own process group) with stdout/stderr going straight to files,
 * and report its exit. Timeouts and cancellation stay with the caller, which signals the process group.
 */
export interface LaunchRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Opened (created or truncated) by the launcher; may be the same path. */
  readonly stdoutFile: string;
  readonly stderrFile: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Open a pipe as the child's fd 3 and collect what is written to it (bwrap's JSON status). */
  readonly statusPipe: boolean;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  /** Text the child wrote to fd 3 (statusPipe only). */
  readonly status: string;
  /** Set when the launcher lost track of the process (its helper died): outcome unknown. */
  readonly lost?: string;
}

/** A spawn failure, shaped like Node's ErrnoException so callers can read `code` (ENOENT, EACCES, ...). */
export interface LaunchError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

export interface Launcher {
  /** Starts the process; resolves with its pid (also its process group id) or rejects with a LaunchError. */
  start(request: LaunchRequest, onExit: (exit: ExitInfo) => void): Promise<number>;
  close(): Promise<void>;
}
