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

  async deleteJob(jobId: string): Promise<void> {
    await rm(this.jobDir(jobId), { recursive: true, force: true });
  }
}
