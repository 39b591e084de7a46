import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import {
  groupSignaller,
  NO_USAGE,
  type ExitInfo,
  type Launched,
  type Launcher,
  type LaunchRequest,
} from './types.js';

/** Opens the log files and spawns in a given process: shared by the direct launcher and the spawner helper. */
export function spawnDetached(request: LaunchRequest, onExit: (exit: ExitInfo) => void): number {
  const out = openSync(request.stdoutFile, 'w');
  let err = out;
  try {
    if (request.stderrFile !== request.stdoutFile) err = openSync(request.stderrFile, 'w');
    const stdio: StdioOptions = ['ignore', out, err];
    const child = spawn(request.file, request.args as string[], {
      cwd: request.cwd,
      env: request.env,
      stdio,
      detached: true,
    });
    const pid = child.pid;
    if (pid === undefined) {
      // Node reports spawn failures asynchronously; surface them synchronously to the caller.
      throw new Promise<never>((_, reject) => child.once('error', reject));
    }
    let exit: { code: number | null; signal: string | null } | undefined;
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Whatever the command left behind in its group dies with it.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // ESRCH: nothing left.
      }
    });
    child.on('close', () =>
      onExit({ code: exit?.code ?? null, signal: exit?.signal ?? null, usage: NO_USAGE }),
    );
    return pid;
  } finally {
    closeSync(out);
    if (err !== out) closeSync(err);
  }
}

/** Spawns from the calling process. Simple, but fork() of a large process costs its main thread ~1 ms. */
export class DirectLauncher implements Launcher {
  async start(request: LaunchRequest, onExit: (exit: ExitInfo) => void): Promise<Launched> {
    try {
      return groupSignaller(spawnDetached(request, onExit));
    } catch (thrown) {
      if (thrown instanceof Promise) return thrown;
      throw thrown;
    }
  }

  async close(): Promise<void> {}
}
