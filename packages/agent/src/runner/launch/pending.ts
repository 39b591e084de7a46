import { NO_USAGE, type ExitInfo, type LaunchError } from './types.js';

interface Entry {
  readonly resolve: (pid: number) => void;
  readonly reject: (err: LaunchError) => void;
  readonly onExit: (exit: ExitInfo) => void;
  pid?: number;
}

/**
 * Bookkeeping shared by the launchers that start commands through a helper process: requests waiting for
 * their start, then for their exit. If the helper dies, commands it started are killed and reported lost,
 * so nothing runs untracked.
 */
export class PendingLaunches {
  private nextId = 1;
  private readonly entries = new Map<number, Entry>();

  get size(): number {
    return this.entries.size;
  }

  /** Registers a launch under a fresh id, then calls `send` with it; resolves with the pid once started. */
  add(onExit: (exit: ExitInfo) => void, send: (id: number) => void): Promise<number> {
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.entries.set(id, { resolve, reject, onExit });
      send(id);
    });
  }

  started(id: number, pid: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.pid = pid;
    entry.resolve(pid);
  }

  failed(id: number, error: LaunchError): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    entry.reject(error);
  }

  exited(id: number, exit: ExitInfo): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    if (entry.pid === undefined) {
      // Ended before it was reported started (a lost sandbox): the caller still waits for the start.
      entry.reject(
        Object.assign(new Error(exit.lost ?? 'the command ended before it started'), { code: 'ELOST' }),
      );
      return;
    }
    entry.onExit(exit);
  }

  /** The helper is gone: fail what had not started, kill and report lost what had. */
  abandonAll(helper: string): void {
    for (const [id, entry] of this.entries) {
      this.entries.delete(id);
      if (entry.pid === undefined) {
        entry.reject(Object.assign(new Error(`the ${helper} helper exited`), { code: 'ESPAWNER' }));
        continue;
      }
      if (entry.pid > 0) {
        try {
          process.kill(-entry.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      entry.onExit({
        code: null,
        signal: null,
        lost: `the ${helper} helper exited while the command ran`,
        usage: NO_USAGE,
      });
    }
  }
}

/** Keeps a helper process from holding the event loop open when it has nothing pending. */
export function refHelper(child: { ref(): void; unref(): void }, handles: unknown[], hold: boolean): void {
  if (hold) child.ref();
  else child.unref();
  for (const handle of handles) {
    const h = handle as { ref?(): void; unref?(): void } | null | undefined;
    if (hold) h?.ref?.();
    else h?.unref?.();
  }
}
