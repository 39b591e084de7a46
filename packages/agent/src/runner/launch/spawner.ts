import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PendingLaunches, refHelper } from './pending.js';
import {
  groupSignaller,
  type ExitInfo,
  type Launched,
  type Launcher,
  type LaunchError,
  type LaunchRequest,
} from './types.js';

type Reply =
  | { id: number; pid: number }
  | { id: number; error: { message: string; code?: string; errno?: number; syscall?: string; path?: string } }
  | { id: number; exit: ExitInfo };

const MAIN = fileURLToPath(new URL('./spawner-main.js', import.meta.url));

/** Launches commands through a Node helper process (started on first use, restarted if it dies). */
export class SpawnerLauncher implements Launcher {
  private child: ChildProcess | undefined;
  private readonly pending = new PendingLaunches();

  private ensureChild(): ChildProcess {
    if (this.child && this.child.connected) return this.child;
    const child = fork(MAIN, [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
      execArgv: [],
    });
    child.on('message', (reply: Reply) => this.onReply(reply));
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      this.pending.abandonAll('spawner');
    });
    this.child = child;
    this.hold(false);
    return child;
  }

  private hold(on: boolean): void {
    if (this.child) refHelper(this.child, [(this.child as unknown as { channel?: unknown }).channel], on);
  }

  private onReply(reply: Reply): void {
    if ('pid' in reply) this.pending.started(reply.id, reply.pid);
    else if ('error' in reply)
      this.pending.failed(
        reply.id,
        Object.assign(new Error(reply.error.message), reply.error) as LaunchError,
      );
    else this.pending.exited(reply.id, reply.exit);
    if (this.pending.size === 0) this.hold(false);
  }

  async start(request: LaunchRequest, onExit: (exit: ExitInfo) => void): Promise<Launched> {
    const child = this.ensureChild();
    this.hold(true);
    return groupSignaller(await this.pending.add(onExit, (id) => child.send({ id, request })));
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child?.connected) child.disconnect();
  }
}
