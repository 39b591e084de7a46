/**
 * Where the local worker keeps each attempt's stdout/stderr: `<data-dir>/logs/<jobId>/<task>.<iid>.<attempt>.<stream>`.
 * The API streams them from here (also while the attempt runs), and deleting a job deletes its folder.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

export type LogStream = 'stdout' | 'stderr';

export class LogFiles {
  constructor(readonly root: string) {}

  jobDir(jobId: string): string {
    return join(this.root, jobId);
  }

  path(jobId: string, taskName: string, instanceId: number, attemptNo: number, stream: LogStream): string {
    return join(this.root, jobId, `${taskName}.${instanceId}.${attemptNo}.${stream}`);
  }

  /**
   * Removes a job's logs. An attempt cut off by the stop that preceded the delete may still be writing its
   * last lines: a directory that gained a file while it was being emptied is emptied again.
   */
  async deleteJob(jobId: string): Promise<void> {
    await rm(this.jobDir(jobId), { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  }
}
