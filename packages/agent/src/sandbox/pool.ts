/**
 * Warm sandboxes kept by a runner. Starting bubblewrap costs milliseconds per attempt; a sandbox kept
 * warm runs each following attempt of the same profile in fresh namespaces for a fraction of that. Each
 * sandbox runs one attempt at a time, as a host uid of its own (one of a range, like Nix's build users):
 * limits the kernel counts per uid (inotify instances, user namespaces, ...) are never shared between
 * attempts running side by side, and an attempt's files belong to nobody else.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { exposedPath, type NativeLauncher } from '../runner/launch/native.js';
import { AttemptFailure } from '../runner/results.js';
import { outerArgs, profileKey, type SandboxProfile } from './outer.js';

export interface PoolOptions {
  /** Directory of the slot directories (one per sandbox) and their error logs. */
  readonly root: string;
  readonly bwrapPath: string;
  readonly initPath: string;
  /** First host uid of the sandbox range (also its gid); the agent must be root to use it. */
  readonly uidBase: number;
  /** How many sandboxes may exist at once (the size of the uid range). */
  readonly uidCount: number;
  /** Idle sandboxes kept warm; the least recently used beyond this are closed. */
  readonly maxIdle: number;
}

export interface WarmSandbox {
  readonly id: string;
  readonly profile: SandboxProfile;
  readonly key: string;
  /** Host uid and gid its processes run as. */
  readonly uid: number;
  /** Host directory seen inside as SLOT_INSIDE: attempt files live here. */
  readonly slotDir: string;
  /** An empty working directory a finished attempt left, ready for the next (see Runner). */
  spareWorkDir: string | undefined;
  busy: boolean;
  dead: boolean;
  lastUsed: number;
  attempts: number;
}

export class SandboxPool {
  private seq = 0;
  private readonly all = new Map<string, WarmSandbox>();
  private readonly usedUids = new Set<number>();
  private readonly privileged = process.getuid?.() === 0;

  constructor(
    private readonly launcher: NativeLauncher,
    private readonly o: PoolOptions,
  ) {
    launcher.onSandboxEnded((id) => {
      const sb = this.all.get(id);
      if (sb) this.forget(sb);
    });
  }

  /** Sandboxes opened since start, and open now (for tests and metrics). */
  opened = 0;

  get size(): number {
    return this.all.size;
  }

  /** A warm sandbox of this profile, marked busy; opened when none is idle. */
  async acquire(profile: SandboxProfile): Promise<WarmSandbox> {
    const key = profileKey(profile);
    let best: WarmSandbox | undefined;
    for (const sb of this.all.values()) {
      if (sb.key === key && !sb.busy && !sb.dead && (!best || sb.lastUsed > best.lastUsed)) best = sb;
    }
    if (best) {
      best.busy = true;
      return best;
    }
    while (this.all.size >= (this.privileged ? this.o.uidCount : Infinity) && this.closeIdle()) {
      // made room for one more
    }
    return this.open(profile, key);
  }

  /** Gives a sandbox back after an attempt; one that misbehaved (or died) is closed instead. */
  release(sb: WarmSandbox, healthy: boolean): void {
    sb.busy = false;
    sb.lastUsed = performance.now();
    sb.attempts++;
    if (!healthy) this.close(sb);
    let idle = [...this.all.values()].filter((s) => !s.busy && !s.dead).length;
    while (idle-- > this.o.maxIdle && this.closeIdle()) {
      // trimmed
    }
  }

  async closeAll(): Promise<void> {
    for (const sb of [...this.all.values()]) this.close(sb);
    await rm(this.o.root, { recursive: true, force: true }).catch(() => undefined);
  }

  private closeIdle(): boolean {
    let oldest: WarmSandbox | undefined;
    for (const sb of this.all.values()) {
      if (!sb.busy && !sb.dead && (!oldest || sb.lastUsed < oldest.lastUsed)) oldest = sb;
    }
    if (!oldest) return false;
    this.close(oldest);
    return true;
  }

  private close(sb: WarmSandbox): void {
    this.launcher.closeSandbox(sb.id);
    this.forget(sb);
  }

  private forget(sb: WarmSandbox): void {
    if (!this.all.delete(sb.id)) return;
    sb.dead = true;
    this.usedUids.delete(sb.uid);
    // After the helper reports the end, nothing runs in it any more; until then its files stay.
    void rm(sb.slotDir, { recursive: true, force: true }).catch(() => undefined);
    void rm(`${sb.slotDir}.log`, { force: true }).catch(() => undefined);
  }

  private allocateUid(): number {
    if (!this.privileged) return process.getuid?.() ?? 0;
    for (let i = 0; i < this.o.uidCount; i++) {
      const uid = this.o.uidBase + i;
      if (!this.usedUids.has(uid)) {
        this.usedUids.add(uid);
        return uid;
      }
    }
    throw new AttemptFailure(
      'SandboxUnavailable',
      `all ${this.o.uidCount} sandbox uids (${this.o.uidBase}..${this.o.uidBase + this.o.uidCount - 1}) are in use`,
    );
  }

  private async open(profile: SandboxProfile, key: string): Promise<WarmSandbox> {
    const id = `s${++this.seq}`;
    this.opened++;
    const uid = this.allocateUid();
    const slotDir = path.join(this.o.root, id);
    const sb: WarmSandbox = {
      id,
      profile,
      key,
      uid,
      slotDir,
      spareWorkDir: undefined,
      busy: true,
      dead: false,
      lastUsed: 0,
      attempts: 0,
    };
    this.all.set(id, sb);
    const errorLog = `${slotDir}.log`;
    try {
      // root-owned 0711: init (the sandbox uid) passes through to the attempt directories, lists nothing.
      await mkdir(this.o.root, { recursive: true, mode: 0o700 });
      await rm(slotDir, { recursive: true, force: true });
      await mkdir(slotDir, { mode: 0o711 });
      const image = profile.image.kind === 'rootfs' ? profile.image.dir : undefined;
      if (image && !this.privileged)
        throw new Error(
          'root filesystem images need a root agent (their files are mapped to the sandbox user)',
        );
      const mounts = profile.hostMounts.map((m) => m.hostPath);
      // bwrap would follow a link swapped into a writable mount after the agent checked it; the root
      // helper opens host mounts refusing links, so only a root agent may expose them.
      if (mounts.length && !this.privileged)
        throw new Error('host directory Mounts need a root agent (they are opened without following links)');
      const expose = this.privileged
        ? [
            slotDir,
            this.o.initPath,
            ...(image ? [`idmap:${image}`] : []),
            ...mounts.map((m) => `nolinks:${m}`),
          ]
        : [];
      const at = (i: number, own: string): string => (this.privileged ? exposedPath(i) : own);
      const first = image ? 3 : 2;
      await this.launcher.openSandbox(id, {
        uid,
        gid: uid,
        errorLog,
        bwrapPath: this.o.bwrapPath,
        expose,
        args: outerArgs(
          profile,
          at(0, slotDir),
          at(1, this.o.initPath),
          image ? exposedPath(2) : undefined,
          mounts.map((m, i) => at(first + i, m)),
        ),
      });
      return sb;
    } catch (err) {
      const log = (await readFile(errorLog, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('; ');
      this.forget(sb);
      const why = log || (err instanceof Error ? err.message : String(err));
      throw new AttemptFailure('SandboxUnavailable', `the sandbox could not be started: ${why}`);
    }
  }
}
