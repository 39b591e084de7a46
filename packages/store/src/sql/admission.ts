/**
 * Admission of queued instances into a claim: task caps (MaxRunningInstances), owner quotas (running
 * instances, CPU), the fit of the worker's machine, and what may be claimed ahead of free slots.
 */
import type { ClaimLimits, TaskSpec } from '@shoal/core';
import type { SqlDriver, SqlValue } from '../driver.js';
import { queryOne } from '../driver.js';
import { ownerRunningCount, ownerRunningTasks } from './progress.js';
import type { TaskSpecCache } from './task-spec-cache.js';

/**
 * Which queued instances a claim may take, in queue order: those of a task below its
 * MaxRunningInstances, and of an owner below their running-instances quota. Capped ones stay queued.
 */
export class Admission {
  private readonly taskRunning = new Map<string, number>();
  private readonly ownerRunning = new Map<number, number>();
  private readonly ownerCpu = new Map<number, number>();
  private readonly lockedOwners = new Set<number>();
  /** What the worker's machine has left, when it said what it holds. */
  private free: { cpuMillis: number; memoryBytes: number } | undefined;
  private capacity: { cpuMillis: number; memoryBytes: number } | undefined;
  private workerId = '';
  private readonly jobOwners = new Map<string, number>();
  readonly cappedTasks = new Map<string, { jobId: string; taskName: string }>();
  readonly cappedOwners = new Set<number>();

  constructor(
    private readonly tx: SqlDriver,
    private readonly specs: TaskSpecCache,
    private readonly limits: ClaimLimits | undefined,
  ) {}

  spec(jobId: string, taskName: string): Promise<TaskSpec> {
    return taskSpecOf(this.tx, this.specs, jobId, taskName);
  }

  /** A job's owner as its queue rows carry it (it never changes): no query for it then. */
  knowOwner(jobId: string, ownerId: number): void {
    this.jobOwners.set(jobId, ownerId);
  }

  async ownerOf(jobId: string): Promise<number> {
    let owner = this.jobOwners.get(jobId);
    if (owner === undefined) {
      const job = await queryOne(this.tx, 'SELECT owner_id FROM jobs WHERE id = ?', [jobId]);
      owner = Number(job?.owner_id ?? 0);
      this.jobOwners.set(jobId, owner);
    }
    return owner;
  }

  /**
   * What the worker's machine holds (cpu_millis, memory_bytes; 0 = not said). What it runs now is read
   * when a claim first needs the room left: a claim entirely ahead of free slots never does.
   */
  useWorker(workerId: string, cpuMillis: number, memoryBytes: number): void {
    if (!this.limits?.demandOf || (cpuMillis <= 0 && memoryBytes <= 0)) return;
    this.capacity = {
      cpuMillis: cpuMillis > 0 ? cpuMillis : Infinity,
      memoryBytes: memoryBytes > 0 ? memoryBytes : Infinity,
    };
    this.workerId = workerId;
  }

  /** The room the worker's machine has left (undefined when it did not say what it holds). */
  private async roomLeft(): Promise<{ cpuMillis: number; memoryBytes: number } | undefined> {
    if (this.free || !this.capacity || !this.limits?.demandOf) return this.free;
    const free = { ...this.capacity };
    const rows = await this.tx.query(
      "SELECT job_id, task_name FROM instances WHERE worker_id = ? AND state = 'Running'",
      [this.workerId],
    );
    for (const row of rows) {
      const d = this.limits.demandOf(await this.spec(String(row.job_id), String(row.task_name)));
      free.cpuMillis -= d.cpuMillis;
      free.memoryBytes -= d.memoryBytes;
    }
    this.free = free;
    return free;
  }

  /**
   * Whether one more instance of the task may start here ('yes', counted), not this task now ('no': it
   * stays queued, the claim looks past it), or nothing more at all ('full': the worker's machine has no
   * room for the next in line, and claiming smaller work past it would starve it).
   */
  async admit(jobId: string, taskName: string, ahead = false): Promise<'yes' | 'no' | 'full'> {
    const spec = await this.spec(jobId, taskName);
    const cap = spec.maxRunningInstances ?? 0;
    const key = `${jobId}\u0000${taskName}`;
    const demand = this.limits?.demandOf?.(spec);
    if (demand && this.capacity) {
      if (demand.cpuMillis > this.capacity.cpuMillis || demand.memoryBytes > this.capacity.memoryBytes) {
        // Its type never fits this machine: other workers of the cluster may take it.
        this.cappedTasks.set(key, { jobId, taskName });
        return 'no';
      }
    }
    if (ahead) return this.admitAhead(jobId, key, taskName, cap);
    if (cap > 0) {
      let running = this.taskRunning.get(key);
      if (running === undefined) {
        // Claims of other servers must not read the same count at once (PostgreSQL): the job's lock, which
        // every change rolling up to the job takes first anyway (loadJobContext), orders them.
        if (this.tx.dialect === 'postgres')
          await this.tx.query('SELECT id FROM jobs WHERE id = ? FOR UPDATE', [jobId]);
        const row = await queryOne(this.tx, 'SELECT running_count FROM tasks WHERE job_id = ? AND name = ?', [
          jobId,
          taskName,
        ]);
        running = Number(row?.running_count ?? 0);
        this.taskRunning.set(key, running);
      }
      if (running >= cap) {
        this.cappedTasks.set(key, { jobId, taskName });
        return 'no';
      }
    }
    const owner = await this.ownerOf(jobId);
    // Fit last: work that caps or quotas hold back must not block the machine for the work behind it.
    const free = demand ? await this.roomLeft() : undefined;
    if (demand && free && (demand.cpuMillis > free.cpuMillis || demand.memoryBytes > free.memoryBytes)) {
      // Only if the owner may run it at all; else it is passed over like capped work.
      if (!(await this.ownerAdmits(owner, demand.cpuMillis, false))) {
        this.cappedOwners.add(owner);
        return 'no';
      }
      return 'full';
    }
    if (!(await this.ownerAdmits(owner, demand?.cpuMillis ?? 0, true))) {
      this.cappedOwners.add(owner);
      return 'no';
    }
    if (cap > 0) this.taskRunning.set(key, this.taskRunning.get(key)! + 1);
    if (free && demand) {
      free.cpuMillis -= demand.cpuMillis;
      free.memoryBytes -= demand.memoryBytes;
    }
    return 'yes';
  }

  /**
   * Claimed beyond the worker's free slots, an attempt waits on the worker for room (which judges its fit
   * there) but counts as running at once: held back from capped tasks and limited owners, where it would
   * use up a running place that another worker could use now.
   */
  private async admitAhead(jobId: string, key: string, taskName: string, cap: number): Promise<'yes' | 'no'> {
    if (cap > 0) {
      this.cappedTasks.set(key, { jobId, taskName });
      return 'no';
    }
    const owner = await this.ownerOf(jobId);
    if (
      this.limits?.runningPerOwner(owner) !== undefined ||
      this.limits?.cpuPerOwner?.(owner) !== undefined
    ) {
      this.cappedOwners.add(owner);
      return 'no';
    }
    return 'yes';
  }

  /** The owner's running-instances and CPU quotas; with `count`, counts the instance in if admitted. */
  private async ownerAdmits(owner: number, cpuMillis: number, count: boolean): Promise<boolean> {
    const limit = this.limits?.runningPerOwner(owner);
    const cpuLimit = this.limits?.cpuPerOwner?.(owner);
    // Claims for one limited owner take turns on PostgreSQL (their user row's lock), so two servers
    // cannot both read "one below the quota".
    if (
      (limit !== undefined || cpuLimit !== undefined) &&
      this.tx.dialect === 'postgres' &&
      !this.lockedOwners.has(owner)
    ) {
      await this.tx.query('SELECT owner_id FROM users WHERE owner_id = ? FOR UPDATE', [owner]);
      this.lockedOwners.add(owner);
    }
    if (limit !== undefined) {
      let running = this.ownerRunning.get(owner);
      if (running === undefined) {
        running = await ownerRunningCount(this.tx, owner);
        this.ownerRunning.set(owner, running);
      }
      if (running >= limit) return false;
    }
    if (cpuLimit !== undefined && this.limits?.demandOf) {
      let used = this.ownerCpu.get(owner);
      if (used === undefined) {
        used = 0;
        for (const { task, running } of await ownerRunningTasks(this.tx, this.specs, owner))
          used += running * this.limits.demandOf(task).cpuMillis;
        this.ownerCpu.set(owner, used);
      }
      if (used + cpuMillis > cpuLimit) return false;
      if (count) this.ownerCpu.set(owner, used + cpuMillis);
    }
    if (limit !== undefined && count) this.ownerRunning.set(owner, this.ownerRunning.get(owner)! + 1);
    return true;
  }

  /** SQL that leaves out what is capped, and its parameters. */
  exclusions(): { sql: string; params: SqlValue[] } {
    const parts: string[] = [];
    const params: SqlValue[] = [];
    for (const t of this.cappedTasks.values()) {
      parts.push('NOT (job_id = ? AND task_name = ?)');
      params.push(t.jobId, t.taskName);
    }
    if (this.cappedOwners.size) {
      parts.push(`owner_id NOT IN (${[...this.cappedOwners].map(() => '?').join(', ')})`);
      params.push(...this.cappedOwners);
    }
    return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
  }
}

/** A task's spec, from the cache or its row. */
export async function taskSpecOf(
  tx: SqlDriver,
  specs: TaskSpecCache,
  jobId: string,
  taskName: string,
): Promise<TaskSpec> {
  const cached = specs.get(jobId, taskName);
  if (cached) return cached;
  const row = await queryOne(tx, 'SELECT job_id, name, spec_json FROM tasks WHERE job_id = ? AND name = ?', [
    jobId,
    taskName,
  ]);
  return specs.fromRow(row!);
}
