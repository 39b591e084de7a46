import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ExitInfo, Launcher, LaunchRequest } from './types.js';

/** Opens the log files and spawns in a given process: shared by the direct launcher and the spawner helper. */
export function spawnDetached(request: LaunchRequest, onExit: (exit: ExitInfo) => void): number {
  const out = openSync(request.stdoutFile, 'w');
  let err = out;
  try {
    if (request.stderrFile !== request.stdoutFile) err = openSync(request.stderrFile, 'w');
    const stdio: StdioOptions = request.statusPipe ? ['ignore', out, err, 'pipe'] : ['ignore', out, err];
    const child = spawn(request.file, request.args as string[], {
      cwd: request.cwd,
      env: request.env,
      stdio,
      detached: true,
      ...(request.uid !== undefined ? { uid: request.uid } : {}),
      ...(request.gid !== undefined ? { gid: request.gid } : {}),
    });
    const pid = child.pid;
    if (pid === undefined) {
      // Node reports spawn failures asynchronously; surface them synchronously to the caller.
      throw new Promise<never>((_, reject) => child.once('error', reject));
    }
    let status = '';
    let exit: { code: number | null; signal: string | null } | undefined;
    const statusStream = child.stdio[3] as Readable | null | undefined;
    statusStream?.setEncoding('utf8');
    statusStream?.on('data', (d: string) => (status += d));
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
    child.on('close', () => onExit({ code: exit?.code ?? null, signal: exit?.signal ?? null, status }));
    return pid;
  } finally {
    closeSync(out);
    if (err !== out) closeSync(err);
  }
}

/** Spawns from the calling process. Simple, but fork() of a large process costs its main thread ~1 ms. */
export class DirectLauncher implements Launcher {
  async start(request: LaunchRequest, onExit: (exit: ExitInfo) => void): Promise<number> {
    try {
      return spawnDetached(request, onExit);
    } catch (thrown) {
      if (thrown instanceof Promise) return thrown;
      throw thrown;
    }
  }

  async close(): Promise<void> {}
}
