/**
 * Empty log files kept for the next attempts. Every attempt's stdout and stderr are files the helper opens
 * before the command starts, and most attempts leave one of them (stderr, usually) or both empty. Creating
 * a file allocates an inode: tens of microseconds on a fresh ext4 directory, but up to a millisecond where
 * many files were deleted lately (ext4 without a journal scans for inodes not recently freed), which on a
 * short command is most of its cost. So an empty log is not left behind (a log that does not exist reads
 * as empty, on the server and from a remote agent alike): it is renamed into a small pool, and the next
 * attempt's log is one of those renamed into place, which the helper's O_TRUNC open then reuses as it is.
 *
 * Only a file of the pool's own is reused: an empty regular file with no other link (an upload may have
 * hard-linked a log into the object store; that inode must never be written again).
 *
 * Synchronous on purpose: a rename or lstat takes microseconds, and a trip through the thread pool on
 * each attempt's path cost more (measured: 742-849 against 1045-1071 instances/s unsandboxed).
 */
import { lstatSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

const MAX_SPARES = 64;

export class SpareLogs {
  private readonly spares: string[] = [];
  private seq = 0;
  private ready = false;

  /** `dir` holds the pool; it must be on the filesystem of the logs (rename does not cross filesystems). */
  constructor(private readonly dir: string) {}

  /** Puts a spare at `file` when one is kept (its directory exists); otherwise the helper creates it. */
  place(file: string): void {
    const spare = this.spares.pop();
    if (spare === undefined) return;
    try {
      renameSync(spare, file);
    } catch {
      // Gone or unmovable: the helper creates the log as it would without a pool.
    }
  }

  /** After the attempt: an empty log joins the pool (and so reads as empty), any other stays. */
  retire(file: string): void {
    if (this.spares.length >= MAX_SPARES) return;
    try {
      const st = lstatSync(file);
      if (!st.isFile() || st.size !== 0 || st.nlink !== 1) return;
      this.prepare();
      const spare = path.join(this.dir, String(++this.seq));
      renameSync(file, spare);
      this.spares.push(spare);
    } catch {
      // Missing already, or the pool is unusable: the empty log simply stays where it is.
    }
  }

  /** Once per process: what an earlier process kept is dropped, so every spare is known to be empty. */
  private prepare(): void {
    if (this.ready) return;
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.ready = true;
  }
}
