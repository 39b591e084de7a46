/**
 * Makes whole filesystems durable through shoal-syncfs (native/shoal-syncfs.c): one syncfs(2) per
 * filesystem for a group flush of a worker's uploads, instead of opening, flushing and closing every file
 * and directory through Node's thread pool. One helper process serves the worker, started at the first
 * flush; requests are answered in order. If it dies, the flushes waiting on it fail (their uploads stay
 * unflushed and are flushed again with the next group) and the next flush starts a new one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { refHelper } from '../runner/launch/pending.js';

export const SYNCFS_HELPER_PATH = fileURLToPath(new URL('../../../native/shoal-syncfs', import.meta.url));

interface Waiting {
  resolve(): void;
  reject(err: Error): void;
}

export class FilesystemSync {
  private helper: ChildProcess | undefined;
  private readonly waiting: Waiting[] = [];
  private buffered = '';

  private constructor(private readonly helperPath: string) {}

  /** A syncer, or undefined where the helper was not built (no C compiler): then flush file by file. */
  static create(helperPath = SYNCFS_HELPER_PATH): FilesystemSync | undefined {
    return existsSync(helperPath) ? new FilesystemSync(helperPath) : undefined;
  }

  /** Makes durable everything written on the filesystems holding `dirs` (absolute paths that exist). */
  sync(dirs: readonly string[]): Promise<void> {
    if (dirs.length === 0) return Promise.resolve();
    const helper = this.started();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      // A flush waited on keeps the process alive (a stopping worker's last one too); an idle helper not.
      this.holdOpen(helper, true);
      helper.stdin!.write(`${dirs.map((d) => `${path.resolve(d)}\0`).join('')}\n`);
    });
  }

  close(): void {
    this.helper?.stdin?.end();
    this.helper = undefined;
  }

  private started(): ChildProcess {
    if (this.helper) return this.helper;
    const helper = spawn(this.helperPath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.helper = helper;
    this.buffered = '';
    helper.stdout!.setEncoding('utf8');
    helper.stdout!.on('data', (chunk: string) => {
      this.buffered += chunk;
      let end: number;
      while ((end = this.buffered.indexOf('\n')) >= 0) {
        const errno = Number(this.buffered.slice(0, end));
        this.buffered = this.buffered.slice(end + 1);
        const next = this.waiting.shift();
        if (errno === 0) next?.resolve();
        else next?.reject(new Error(`syncfs failed: errno ${errno}`));
      }
      if (this.waiting.length === 0) this.holdOpen(helper, false);
    });
    const gone = (err?: Error) => {
      if (this.helper !== helper) return;
      this.helper = undefined;
      for (const w of this.waiting.splice(0))
        w.reject(err ?? new Error('shoal-syncfs exited before it answered'));
    };
    helper.on('error', gone);
    // Writing to a helper that just died fails its pipe: that flush fails with it, the process carries on.
    helper.stdin!.on('error', gone);
    helper.on('exit', () => gone());
    this.holdOpen(helper, false);
    return helper;
  }

  private holdOpen(helper: ChildProcess, hold: boolean): void {
    refHelper(helper, [helper.stdin, helper.stdout], hold);
  }
}
