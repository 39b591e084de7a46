import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
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

/** Where `npm ci` (scripts/build-native.mjs) puts the compiled helpers. */
export const NATIVE_SPAWNER_PATH = fileURLToPath(new URL('../../../../native/shoal-spawn', import.meta.url));
export const SANDBOX_INIT_PATH = fileURLToPath(
  new URL('../../../../native/shoal-sandbox-init', import.meta.url),
);

/**
 * Where bubblewrap finds the i-th exposed host path: shoal-spawn binds each one there in a private mount
 * namespace before it drops privileges (EXPOSE_ROOT in spawn-sandbox.c).
 */
export function exposedPath(index: number): string {
  return `/tmp/shoal-${index}`;
}

/** How a warm sandbox is started: bwrap as `uid`, with host paths exposed to it. */
export interface SandboxOpenRequest {
  readonly uid: number;
  readonly gid: number;
  /** Receives bwrap's and the helper's own complaints while the sandbox starts and runs. */
  readonly errorLog: string;
  readonly bwrapPath: string;
  /** Host paths bwrap may bind, seen by it at exposedPath(i): no path the sandbox uid walks. */
  readonly expose: readonly string[];
  readonly args: readonly string[];
}

/** One mount operation of an attempt's root (see shoal-sandbox-init.c for the kinds). */
export type MountOp = readonly [kind: string, a: string, b: string, c: string];

export interface CgroupLimits {
  /** -1 = no limit, for each. */
  readonly memoryBytes: number;
  readonly cpuMillis: number;
  readonly pids: number;
}

export interface SandboxRunRequest {
  readonly sandboxId: string;
  readonly stdoutFile: string;
  readonly stderrFile: string;
  /** '' runs without a cgroup; else the name of a new cgroup, should the attempt need one (the helper
   * reuses its sandbox's when the last attempt left it clean). */
  readonly cgroupName: string;
  readonly limits: CgroupLimits;
  /** The working directory as the command sees it. */
  readonly cwd: string;
  /** The root's base, the same for every attempt of a sandbox (built ahead of the attempt), ... */
  readonly base: readonly MountOp[];
  /** ... then the attempt's own mounts. */
  readonly ops: readonly MountOp[];
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);
const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals).map(([name, value]) => [value, name]),
);

function frame(fields: readonly string[], raw?: Buffer): Buffer {
  const body = Buffer.from(fields.map((f) => `${f}\u0000`).join(''));
  const length = body.length + (raw?.length ?? 0);
  const record = Buffer.allocUnsafe(4 + length);
  record.writeUInt32LE(length, 0);
  body.copy(record, 4);
  raw?.copy(record, 4 + body.length);
  return record;
}

function envList(env: Readonly<Record<string, string>>): string[] {
  const list = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return [String(list.length), ...list];
}

function plainRecord(id: number, r: LaunchRequest): Buffer {
  return frame([
    'L',
    String(id),
    r.file,
    r.cwd,
    r.stdoutFile,
    r.stderrFile,
    String(r.args.length + 1),
    r.file,
    ...r.args,
    ...envList(r.env),
  ]);
}

/** The request init receives (shoal-sandbox-init.c, parse_request), carried inside the R record. */
function initRequest(id: number, r: SandboxRunRequest): Buffer {
  const fields = ['R', String(id), r.cwd, String(r.base.length)];
  for (const op of r.base) fields.push(...op);
  fields.push(String(r.ops.length));
  for (const op of r.ops) fields.push(...op);
  fields.push(String(r.argv.length), ...r.argv, ...envList(r.env));
  return Buffer.from(fields.map((f) => `${f}\u0000`).join(''));
}

function errnoError(errno: number, file: string): LaunchError {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  return Object.assign(new Error(`spawn ${file} ${code}`), {
    code,
    errno: -errno,
    syscall: 'spawn',
    path: file,
  });
}

/** A sandbox that ended, with its exit and what it left in its error log. */
export interface SandboxEnd {
  readonly code: number | null;
  readonly signal: string | null;
  readonly message: string;
}

interface Opening {
  resolve(pid: number): void;
  reject(err: Error): void;
}

/**
 * Starts commands through `shoal-spawn`, a small C helper: no fork() of the worker and no Node process per
 * command. Plain commands start with posix_spawn; sandboxed attempts run in warm bubblewrap sandboxes the
 * helper keeps (openSandbox / run / closeSandbox), each attempt in its own namespaces, with its own limits
 * and accounting (in its sandbox's cgroup, reused while attempts leave it clean). Either
 * way no descriptor of the agent's but stdin/stdout/stderr (and fd 3) reaches the command.
 */
export class NativeLauncher implements Launcher {
  private child: ChildProcess | undefined;
  private buffered = '';
  private readonly pending = new PendingLaunches();
  private readonly opening = new Map<string, Opening>();
  private readonly open = new Set<string>();
  private readonly endListeners: Array<(sandboxId: string, end: SandboxEnd) => void> = [];
  /** Commands started in a sandbox: their id, so they can be signalled through the helper. */
  private readonly files = new Map<number, string>();

  constructor(
    private readonly helperPath = NATIVE_SPAWNER_PATH,
    private readonly helperArgs: readonly string[] = [],
  ) {}

  static available(path = NATIVE_SPAWNER_PATH): boolean {
    return existsSync(path);
  }

  /** Called when an open sandbox ends (closed, or died); it must not be used again. */
  onSandboxEnded(listener: (sandboxId: string, end: SandboxEnd) => void): void {
    this.endListeners.push(listener);
  }

  private ensureChild(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.stdin?.writable) return this.child;
    const child = spawn(this.helperPath, [...this.helperArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    child.stdin!.on('error', () => undefined);
    child.on('error', () => undefined);
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      this.pending.abandonAll('shoal-spawn');
      const end = { code: null, signal: null, message: 'the shoal-spawn helper exited' };
      const opening = [...this.opening.values()];
      this.opening.clear();
      for (const o of opening) o.reject(new Error(end.message));
      for (const id of [...this.open]) this.ended(id, end);
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

  private busy(): boolean {
    // Idle warm sandboxes do not keep the process alive: when it exits, the helper kills them.
    return this.pending.size > 0 || this.opening.size > 0;
  }

  private ended(sandboxId: string, end: SandboxEnd): void {
    if (!this.open.delete(sandboxId)) return;
    for (const listener of this.endListeners) listener(sandboxId, end);
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      this.onLine(line);
    }
    if (!this.busy()) this.hold(false);
  }

  private onLine(line: string): void {
    const [kind, idText = '', a = '', b = ''] = line.split(' ');
    const rest = line.split(' ').slice(2).join(' ');
    const id = Number(idText);
    switch (kind) {
      case 'P':
        this.pending.started(id, Number(a));
        break;
      case 'E':
        this.pending.failed(id, errnoError(Number(a), this.files.get(id) ?? '?'));
        this.files.delete(id);
        break;
      case 'F':
        this.pending.failed(id, Object.assign(new Error(rest), { code: 'ESANDBOX' }));
        this.files.delete(id);
        break;
      case 'L':
        this.files.delete(id);
        this.pending.exited(id, { code: null, signal: null, lost: rest, usage: usageOf([]) });
        break;
      case 'X': {
        const fields = line.split(' ');
        const sig = Number(b);
        this.files.delete(id);
        this.pending.exited(id, {
          code: Number(a) < 0 ? null : Number(a),
          signal: sig ? (SIGNAL_NAMES.get(sig) ?? `SIG${sig}`) : null,
          usage: usageOf(fields.slice(4)),
        });
        break;
      }
      case 'O': {
        const o = this.opening.get(idText);
        this.opening.delete(idText);
        this.open.add(idText);
        o?.resolve(Number(a));
        break;
      }
      case 'D': {
        const sig = Number(b);
        const end: SandboxEnd = {
          code: Number(a) < 0 ? null : Number(a),
          signal: sig ? (SIGNAL_NAMES.get(sig) ?? `SIG${sig}`) : null,
          message: line.split(' ').slice(4).join(' '),
        };
        const o = this.opening.get(idText);
        this.opening.delete(idText);
        if (o) o.reject(Object.assign(new Error(end.message || 'the sandbox exited while starting'), end));
        else this.ended(idText, end);
        break;
      }
    }
  }

  async start(request: LaunchRequest, onExit: (exit: ExitInfo) => void): Promise<Launched> {
    const child = this.ensureChild();
    this.hold(true);
    const pid = await this.pending.add(onExit, (id) => {
      this.files.set(id, request.file);
      child.stdin!.write(plainRecord(id, request));
    });
    return groupSignaller(pid);
  }

  /** Starts a warm sandbox; resolves with bwrap's pid once init inside reports ready. */
  openSandbox(sandboxId: string, r: SandboxOpenRequest): Promise<number> {
    const child = this.ensureChild();
    this.hold(true);
    return new Promise<number>((resolve, reject) => {
      this.opening.set(sandboxId, { resolve, reject });
      child.stdin!.write(
        frame([
          'O',
          sandboxId,
          String(r.uid),
          String(r.gid),
          r.errorLog,
          r.bwrapPath,
          String(r.expose.length),
          ...r.expose,
          String(r.args.length),
          ...r.args,
        ]),
      );
    });
  }

  /** Runs one attempt in an open sandbox; resolves once its command runs. */
  async run(r: SandboxRunRequest, onExit: (exit: ExitInfo) => void): Promise<Launched> {
    const child = this.ensureChild();
    this.hold(true);
    let launchId = 0;
    await this.pending.add(onExit, (id) => {
      launchId = id;
      this.files.set(id, r.argv[0] ?? '?');
      const fields = [
        'R',
        String(id),
        r.sandboxId,
        r.stdoutFile,
        r.stderrFile,
        r.cgroupName,
        String(r.limits.memoryBytes),
        String(r.limits.cpuMillis),
        String(r.limits.pids),
      ];
      child.stdin!.write(frame(fields, initRequest(id, r)));
    });
    return {
      pid: 0,
      signal: (sig) => {
        const number = constants.signals[sig];
        if (this.child && number) this.child.stdin!.write(frame(['K', String(launchId), String(number)]));
      },
    };
  }

  /** Ends a sandbox (its init exits, and with it whatever still runs there). */
  closeSandbox(sandboxId: string): void {
    if (!this.open.has(sandboxId) || !this.child) return;
    this.child.stdin!.write(frame(['C', sandboxId]));
  }

  /** Ends the helper, which kills whatever it still runs and removes their cgroups, and waits for it. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

function usageOf(fields: readonly string[]): ExitInfo['usage'] {
  const n = (i: number): number => {
    const v = Number(fields[i]);
    return Number.isFinite(v) ? v : -1;
  };
  return { cpuUs: n(0), peakBytes: n(1), oomKills: n(2), pidsHits: n(3) };
}
