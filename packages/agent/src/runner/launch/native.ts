import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PendingLaunches, refHelper } from './pending.js';
import type { ExitInfo, Launcher, LaunchRequest } from './types.js';

/** Where `npm ci` (scripts/build-native.mjs) puts the compiled helper. */
export const NATIVE_SPAWNER_PATH = fileURLToPath(new URL('../../../../native/shoal-spawn', import.meta.url));

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);
const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals).map(([name, value]) => [value, name]),
);

/** Where a command's fd 3 output (bwrap's JSON status) is collected; read and removed at its exit. */
function statusFileOf(r: LaunchRequest): string {
  return `${r.stdoutFile}.status`;
}

function encode(id: number, r: LaunchRequest): Buffer {
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`);
  const fields = [
    String(id),
    r.file,
    r.cwd,
    r.stdoutFile,
    r.stderrFile,
    r.uid === undefined ? '' : String(r.uid),
    r.gid === undefined ? '' : String(r.gid),
    r.statusPipe ? statusFileOf(r) : '',
    String(r.args.length + 1),
    r.file,
    ...r.args,
    String(env.length),
    ...env,
  ];
  const body = Buffer.from(fields.map((f) => `${f}\u0000`).join(''));
  const record = Buffer.allocUnsafe(4 + body.length);
  record.writeUInt32LE(body.length, 0);
  body.copy(record, 4);
  return record;
}

/**
 * Starts commands through `shoal-spawn`, a small C helper: no fork() of the worker and no Node process per
 * command, so a 2-slot worker keeps both slots busy. Plain commands start with posix_spawn; sandboxed ones
 * (another uid, bwrap's status on fd 3) are forked by the helper, which is small enough for that to be
 * cheap. Either way no descriptor of the agent's but stdin/stdout/stderr (and fd 3) reaches the command.
 */
export class NativeLauncher implements Launcher {
  private child: ChildProcess | undefined;
  private buffered = '';
  private readonly pending = new PendingLaunches();

  constructor(private readonly helperPath = NATIVE_SPAWNER_PATH) {}

  static available(path = NATIVE_SPAWNER_PATH): boolean {
    return existsSync(path);
  }

  private ensureChild(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.stdin?.writable) return this.child;
    const child = spawn(this.helperPath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    child.stdin!.on('error', () => undefined);
    child.on('error', () => undefined);
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      this.pending.abandonAll('shoal-spawn');
    });
    this.child = child;
    this.buffered = '';
    this.hold(false);
    return child;
  }

  private hold(on: boolean): void {
    const child = this.child as
      (ChildProcess & { stdout: { _handle?: unknown }; stdin: { _handle?: unknown } }) | undefined;
    if (child) refHelper(child, [child.stdout?._handle, child.stdin?._handle], on);
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      const [kind, idText, a, b] = line.split(' ');
      const id = Number(idText);
      if (kind === 'P') this.pending.started(id, Number(a));
      else if (kind === 'E') {
        const errno = Number(a);
        const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
        this.pending.failed(id, (request) =>
          Object.assign(new Error(`spawn ${request.file} ${code}`), {
            code,
            errno: -errno,
            syscall: 'spawn',
            path: request.file,
          }),
        );
      } else if (kind === 'X') {
        const signal = Number(b);
        this.pending.exited(id, {
          code: signal ? null : Number(a),
          signal: signal ? (SIGNAL_NAMES.get(signal) ?? `SIG${signal}`) : null,
          status: '',
        });
      }
    }
    if (this.pending.size === 0) this.hold(false);
  }

  start(request: LaunchRequest, onExit: (exit: ExitInfo) => void): Promise<number> {
    const child = this.ensureChild();
    this.hold(true);
    const report = request.statusPipe
      ? (exit: ExitInfo) => {
          const file = statusFileOf(request);
          void readFile(file, 'utf8')
            .catch(() => '')
            .then((status) => rm(file, { force: true }).then(() => onExit({ ...exit, status })));
        }
      : onExit;
    return this.pending.add(request, report, (id) => child.stdin!.write(encode(id, request)));
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    child?.stdin?.end();
  }
}
