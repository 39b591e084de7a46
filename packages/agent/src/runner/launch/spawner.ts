import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExitInfo, Launcher, LaunchError, LaunchRequest } from './types.js';

interface Pending {
  readonly resolve: (pid: number) => void;
  readonly reject: (err: LaunchError) => void;
  readonly onExit: (exit: ExitInfo) => void;
  pid?: number;
}

type Reply =
  | { id: number; pid: number }
  | { id: number; error: { message: string; code?: string; errno?: number; syscall?: string; path?: string } }
  | { id: number; exit: ExitInfo };

const MAIN = fileURLToPath(new URL('./spawner-main.js', import.meta.url));

/**
 * Launches commands through the spawner helper process (started on first use, restarted if it dies).
 * If the helper dies, commands it started are killed and reported lost, so nothing runs untracked.
 */
export class SpawnerLauncher implements Launcher {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private ensureChild(): ChildProcess {
    if (this.child && this.child.connected) return this.child;
    const child = fork(MAIN, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json', execArgv: [] });
    child.on('message', (reply: Reply) => this.onReply(reply));
    child.on('exit', () => this.onChildExit(child));
    this.child = child;
    this.holdOpen(false);
    return child;
  }

  /** The helper keeps the event loop alive only while commands it started are pending. */
  private holdOpen(hold: boolean): void {
    const child = this.child as (ChildProcess & { channel?: { ref(): void; unref(): void } }) | undefined;
    if (!child) return;
    if (hold) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }

  private onReply(reply: Reply): void {
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    if ('pid' in reply) {
      entry.pid = reply.pid;
      entry.resolve(reply.pid);
    } else if ('error' in reply) {
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.holdOpen(false);
      const err: LaunchError = Object.assign(new Error(reply.error.message), reply.error);
      entry.reject(err);
    } else {
      this.pending.delete(reply.id);
      entry.onExit(reply.exit);
    }
    if (this.pending.size === 0) this.holdOpen(false);
  }

  private onChildExit(child: ChildProcess): void {
    if (this.child === child) this.child = undefined;
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      if (entry.pid === undefined) {
        entry.reject(Object.assign(new Error('the spawner helper process exited'), { code: 'ESPAWNER' }));
        continue;
      }
      try {
        process.kill(-entry.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      entry.onExit({ code: null, signal: null, status: '', lost: 'the spawner helper process exited while the command ran' });
    }
  }

  start(request: LaunchRequest, onExit: (exit: ExitInfo) => void): Promise<number> {
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onExit });
      this.holdOpen(true);
      child.send({ id, request });
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child?.connected) child.disconnect();
  }
}
