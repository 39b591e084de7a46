/**
 * The spawner helper process: a small Node process whose only job is to fork/exec commands. Forking from
 * a small process is cheaper than from the worker, and it happens on another core, so the worker's main
 * thread stays free for the scheduler. Protocol (Node IPC, JSON):
 *   in:  { id, request: LaunchRequest }
 *   out: { id, pid } | { id, error: { message, code, errno, syscall, path } } | { id, exit: ExitInfo }
 * It exits when its parent goes away (the IPC channel closes).
 */
import { spawnDetached } from './direct.js';
import type { LaunchRequest } from './types.js';

interface StartMessage {
  readonly id: number;
  readonly request: LaunchRequest;
}

function send(message: unknown): void {
  process.send?.(message);
}

function errorFields(err: unknown) {
  const e = err as NodeJS.ErrnoException;
  return {
    message: e?.message ?? String(err),
    code: e?.code,
    errno: e?.errno,
    syscall: e?.syscall,
    path: e?.path,
  };
}

process.on('message', (message: StartMessage) => {
  const { id, request } = message;
  try {
    const pid = spawnDetached(request, (exit) => send({ id, exit }));
    send({ id, pid });
  } catch (thrown) {
    if (thrown instanceof Promise) thrown.catch((err: unknown) => send({ id, error: errorFields(err) }));
    else send({ id, error: errorFields(thrown) });
  }
});
process.on('disconnect', () => process.exit(0));
