/**
 * Empty log files kept for the next attempts. Every attempt's stdout and stderr are files the helper opens
 * before the command starts, and most attempts leave one of them (stderr, usually) or both empty. Creating
 * a file allocates an inode: tens of microseconds on a fresh ext4 directory, but up to a millisecond where
 * many files were deleted lately (ext4 without a journal scans for inodes not recently freed), which on a
 * short command is most of its cost. So an empty log stays where it is (it reads as empty there, as a
 * missing one would) and is remembered: a later attempt's log is one of those renamed into its place, which
 * the helper's O_TRUNC open then reuses as it is. One rename per log, none when the log has output.
 *
 * Only an empty regular file with no other link is kept (an upload may have hard-linked a log into the
 * object store; that inode must never be written again). A kept file that went away meanwhile (its job was
 * deleted) is simply not there to rename, and the helper creates the log.
 *
 * Synchronous on purpose: a rename or lstat takes microseconds, and a trip through the thread pool on
 * each attempt's path cost more (measured: 742-849 against 1045-1071 instances/s unsandboxed).
 */
import { lstatSync, renameSync } from 'node:fs';

const MAX_SPARES = 64;

export class SpareLogs {
  private readonly spares: string[] = [];

  /** Moves a kept empty log to `file` when there is one (its directory exists); else the helper creates it. */
  place(file: string): void {
    const spare = this.spares.pop();
    if (spare === undefined) return;
    try {
      renameSync(spare, file);
    } catch {
      // Gone or unmovable: the helper creates the log as it would without spares.
    }
  }

  /**
   * After the attempt: an empty log of its own is kept, where it is, for a later attempt. Returns whether it
   * was (false for a log with output, a linked or missing one, or when enough are kept already).
   */
  retire(file: string): boolean {
    if (this.spares.length >= MAX_SPARES) return false;
    try {
      const st = lstatSync(file);
      if (!st.isFile() || st.size !== 0 || st.nlink !== 1) return false;
    } catch {
      return false;
    }
    this.spares.push(file);
    return true;
  }
}
