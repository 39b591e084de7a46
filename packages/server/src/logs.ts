/**
 * Where the local worker keeps each attempt's stdout/stderr:
 * `<data-dir>/logs/<jobId>/<task>/<iid / 1000>/<iid>.<attempt>.<stream>`. Instances are grouped by the
 * thousand: a task of 100,000 instances must not put 200,000 files in one directory, where creating
 * each one gets slower with the directory's size. The API streams them from here (also while the attempt
 * runs), and deleting a job deletes its folder.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SpareLogs, type AttemptFiles, type AttemptLogs } from '@shoal/agent';
import type { Assignment } from '@shoal/core';

export type LogStream = 'stdout' | 'stderr';

const GROUP = 1000;

export class LogFiles {
  constructor(readonly root: string) {}

  jobDir(jobId: string): string {
    return join(this.root, jobId);
  }

  /** The directory holding the logs of an instance (created by the worker before its attempts). */
  dirOf(jobId: string, taskName: string, instanceId: number): string {
    return join(this.root, jobId, taskName, String(Math.floor(instanceId / GROUP)));
  }

  path(jobId: string, taskName: string, instanceId: number, attemptNo: number, stream: LogStream): string {
    return join(this.dirOf(jobId, taskName, instanceId), `${instanceId}.${attemptNo}.${stream}`);
  }

  /** The log as written by this version, or where earlier versions put it (all in the job's folder). */
  readablePath(
    jobId: string,
    taskName: string,
    instanceId: number,
    attemptNo: number,
    stream: LogStream,
  ): string {
    const current = this.path(jobId, taskName, instanceId, attemptNo, stream);
    if (existsSync(current)) return current;
    const legacy = join(this.root, jobId, `${taskName}.${instanceId}.${attemptNo}.${stream}`);
    return existsSync(legacy) ? legacy : current;
  }

  /**
   * Removes a job's logs. An attempt cut off by the stop that preceded the delete may still be writing its
   * last lines: a directory that gained a file while it was being emptied is emptied again.
   */
  async deleteJob(jobId: string): Promise<void> {
    await rm(this.jobDir(jobId), { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  }
}

/**
 * Where the server's own workers write an attempt's logs: straight into the log files the API serves. An
 * empty log's file serves a later attempt (see SpareLogs); until then it reads as empty where it is.
 */
export class LocalAttemptLogs implements AttemptLogs {
  /** Directories known to exist: one mkdir per thousand instances, not one per attempt. */
  private readonly made = new Set<string>();
  private readonly spares = new SpareLogs();

  constructor(private readonly logs: LogFiles) {
    // Where earlier versions kept their spare log files.
    rmSync(join(logs.root, '.spare'), { recursive: true, force: true });
  }

  async files(a: Assignment): Promise<AttemptFiles> {
    const dir = this.logs.dirOf(a.jobId, a.taskName, a.instanceId);
    if (!this.made.has(dir)) {
      await mkdir(dir, { recursive: true });
      if (this.made.size > 10_000) this.made.clear();
      this.made.add(dir);
    }
    const files = {
      stdoutFile: this.logs.path(a.jobId, a.taskName, a.instanceId, a.attemptNo, 'stdout'),
      stderrFile: this.logs.path(a.jobId, a.taskName, a.instanceId, a.attemptNo, 'stderr'),
    };
    this.spares.place(files.stdoutFile);
    this.spares.place(files.stderrFile);
    return files;
  }

  ended(_a: Assignment, files: AttemptFiles): Promise<void> {
    this.spares.retire(files.stdoutFile);
    this.spares.retire(files.stderrFile);
    return Promise.resolve();
  }
}
