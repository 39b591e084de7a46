import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ExitInfo, Launcher, LaunchError, LaunchRequest } from './types.js';

/** Where `npm ci` (scripts/build-native.mjs) puts the compiled helper. */
export const NATIVE_SPAWNER_PATH = fileURLToPath(new URL('../../../../native/shoal-spawn', import.meta.url));

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name]));
const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, value]) => [value, name]));

interface Pending {
  readonly resolve: (pid: number) => void;
  readonly reject: (err: LaunchError) => void;
  readonly onExit: (exit: ExitInfo) => void;
  readonly request: LaunchRequest;
  pid?: number;
}

function encode(id: number, r: LaunchRequest): Buffer {
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}`);
  const fields = [String(id), r.file, r.cwd, r.stdoutFile, r.stderrFile, String(r.args.length + 1), r.file, ...r.args, String(env.length), ...env];
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
  private nextId = 1;
  private buffered = '';
  private readonly pending = new Map<number, Pending>();

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
    child.on('exit', () => this.onChildExit(child));
    this.child = child;
    this.buffered = '';
    this.holdOpen(false);
    return child;
  }

  /** The helper keeps the event loop alive only while commands it started are pending. */
  private holdOpen(hold: boolean): void {
    const child = this.child;
    if (!child) return;
    const streams = [child.stdout, child.stdin] as unknown as ({ ref?(): void; unref?(): void } | null)[];
    if (hold) {
      child.ref();
      for (const s of streams) (s as { _handle?: { ref?(): void } } | null)?._handle?.ref?.();
    } else {
      child.unref();
      for (const s of streams) (s as { _handle?: { unref?(): void } } | null)?._handle?.unref?.();
    }
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      const [kind, idText, a, b] = line.split(' ');
      const id = Number(idText);
      const entry = this.pending.get(id);
      if (!entry) continue;
      if (kind === 'P') {
        entry.pid = Number(a);
        entry.resolve(entry.pid);
      } else if (kind === 'E') {
        this.pending.delete(id);
        const errno = Number(a);
        const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
        entry.reject(Object.assign(new Error(`spawn ${entry.request.file} ${code}`), { code, errno: -errno, syscall: 'spawn', path: entry.request.file }));
      } else if (kind === 'X') {
        this.pending.delete(id);
        const code = Number(a);
        const signal = Number(b);
        entry.onExit({ code: signal ? null : code, signal: signal ? (SIGNAL_NAMES.get(signal) ?? `SIG${signal}`) : null, status: '' });
      }
    }
    if (this.pending.size === 0) this.holdOpen(false);
  }

  private onChildExit(child: ChildProcess): void {
    if (this.child === child) this.child = undefined;
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      if (entry.pid === undefined) {
        entry.reject(Object.assign(new Error('the shoal-spawn helper exited'), { code: 'ESPAWNER' }));
        continue;
      }
      try {
        process.kill(-entry.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      entry.onExit({ code: null, signal: null, status: '', lost: 'the shoal-spawn helper exited while the command ran' });
    }
  }

  start(request: LaunchRequest, onExit: (exit: ExitInfo) => void): Promise<number> {
    if (request.uid !== undefined || request.gid !== undefined || request.statusPipe) return this.fallback.start(request, onExit);
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onExit, request });
      this.holdOpen(true);
      child.stdin!.write(encode(id, request));
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    child?.stdin?.end();
    await this.fallback.close();
  }
}
