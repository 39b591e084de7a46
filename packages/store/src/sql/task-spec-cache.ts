import type { TaskSpec } from '@shoal/core';
import type { Row } from '../driver.js';

/**
 * Task specs are immutable once a job is accepted, so parsed specs are cached by (job, task): the claim path
 * must not parse a task's JSON for each of its 10,000 instances.
 */
export class TaskSpecCache {
  private readonly entries = new Map<string, TaskSpec>();

  constructor(private readonly capacity = 2000) {}

  fromRow(row: Row): TaskSpec {
    const key = `${String(row.job_id)}\u0000${String(row.name)}`;
    let spec = this.entries.get(key);
    if (!spec) {
      spec = JSON.parse(String(row.spec_json)) as TaskSpec;
      this.put(key, spec);
    }
    return spec;
  }

  get(jobId: string, taskName: string): TaskSpec | undefined {
    return this.entries.get(`${jobId}\u0000${taskName}`);
  }

  set(jobId: string, taskName: string, spec: TaskSpec): void {
    this.put(`${jobId}\u0000${taskName}`, spec);
  }

  forgetJob(jobId: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${jobId}\u0000`)) this.entries.delete(key);
  }

  private put(key: string, spec: TaskSpec): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, spec);
  }
}
