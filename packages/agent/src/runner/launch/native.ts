import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
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

function encode(id: number, r: LaunchRequest): Buffer {
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`);
  const fields = [
    String(id),
    r.file,
    r.cwd,
    r.stdoutFile,
    r.stderrFile,
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
 * Starts commands through `shoal-spawn`, a small C helper using posix_spawn: no fork() of the worker and
 * no Node process per command, so a 2-slot worker keeps both slots busy. It handles plain commands;
 * sandboxed ones (another uid, bwrap's status pipe) go to the fallback launcher.
 */
export class NativeLauncher implements Launcher {
  private child: ChildProcess | undefined;
  private buffered = '';
  private readonly pending = new PendingLaunches();

  constructor(
    private readonly fallback: Launcher,
    private readonly helperPath = NATIVE_SPAWNER_PATH,
  ) {}

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
    if (request.uid !== undefined || request.gid !== undefined || request.statusPipe)
      return this.fallback.start(request, onExit);
    const child = this.ensureChild();
    this.hold(true);
    return this.pending.add(request, onExit, (id) => child.stdin!.write(encode(id, request)));
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    child?.stdin?.end();
    await this.fallback.close();
  }
}
