/**
 * How instance transitions roll up: task counters, task and job state changes, release of successor tasks.
 * Every function runs inside the caller's transaction.
 */
import type { State, StateCounts, TaskSpec } from '@shoal/core';
import { isTerminal, settledJobState, settledTaskState } from '@shoal/core';
import type { Row, SqlDriver, SqlValue } from '../driver.js';
import { queryOne } from '../driver.js';
import { appendEvent, appendInstanceEvents, eventName } from './events.js';
import { countsOf } from './mappers.js';
import type { TaskSpecCache } from './task-spec-cache.js';

export type CountsDelta = Partial<StateCounts>;

export interface JobContext {
  readonly id: string;
  readonly ownerId: number;
  readonly seq: number;
  readonly priority: number;
  readonly state: State;
  readonly failOnInstanceFail: boolean;
  readonly taskTotal: number;
}

/**
 * Reads a job for a change and, on PostgreSQL, locks its row until the transaction ends: every change that
 * rolls up to a job (instance ends, claims, stop, start) takes this lock first, so two transactions can
 * never both see "one task left" and neither settle the job. SQLite transactions are serial already.
 */
export async function loadJobContext(tx: SqlDriver, jobId: string): Promise<JobContext | undefined> {
  const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const row = await queryOne(
    tx,
    `SELECT id, owner_id, seq, priority, state, fail_on_instance_fail, task_total FROM jobs WHERE id = ? AND deleted_us IS NULL${lock}`,
    [jobId],
  );
  if (!row) return undefined;
  return {
    id: String(row.id),
    ownerId: Number(row.owner_id),
    seq: Number(row.seq),
    priority: Number(row.priority),
    state: row.state as State,
    failOnInstanceFail: Number(row.fail_on_instance_fail) === 1,
    taskTotal: Number(row.task_total),
  };
}

/**
 * The contexts of several jobs, their locks taken in one order (by id) whatever order they were named in:
 * two transactions locking the same jobs must not wait on each other crosswise.
 */
export async function loadJobContexts(
  tx: SqlDriver,
  jobIds: Iterable<string>,
): Promise<Map<string, JobContext | undefined>> {
  const jobs = new Map<string, JobContext | undefined>();
  for (const jobId of [...new Set(jobIds)].sort()) jobs.set(jobId, await loadJobContext(tx, jobId));
  return jobs;
}

/**
 * Puts every Waiting instance of a task into the dispatch queue: those that ran before (a restarted job's)
 * one row each, its fresh instances as one row spanning them all, however many they are.
 */
export async function enqueueTask(tx: SqlDriver, job: JobContext, taskName: string): Promise<void> {
  await tx.run(
    `INSERT INTO queue (job_id, task_name, instance_id, priority, job_seq, task_order, cluster_id, owner_id)
     SELECT i.job_id, i.task_name, i.instance_id, ?, ?, t.task_order, t.cluster_id, ?
     FROM instances i JOIN tasks t ON t.job_id = i.job_id AND t.name = i.task_name
     WHERE i.job_id = ? AND i.task_name = ? AND i.state = 'Waiting'
     ON CONFLICT DO NOTHING`,
    [job.priority, job.seq, job.ownerId, job.id, taskName],
  );
  await tx.run(
    `INSERT INTO queue (job_id, task_name, instance_id, priority, job_seq, task_order, cluster_id, owner_id, span)
     SELECT job_id, name, fresh_from, ?, ?, task_order, cluster_id, ?, instance_count - fresh_from FROM tasks
     WHERE job_id = ? AND name = ? AND fresh_state = 'Waiting' AND fresh_from < instance_count
     ON CONFLICT DO NOTHING`,
    [job.priority, job.seq, job.ownerId, job.id, taskName],
  );
}

/** Puts one Waiting instance back into the dispatch queue (a retry, or work cut off by a lost worker). */
export async function enqueueInstance(
  tx: SqlDriver,
  job: JobContext,
  taskName: string,
  instanceId: number,
  notBeforeUs = 0,
): Promise<void> {
  await tx.run(
    `INSERT INTO queue (job_id, task_name, instance_id, priority, job_seq, task_order, cluster_id, owner_id,
       not_before_us)
     SELECT ?, name, ?, ?, ?, task_order, cluster_id, ?, ? FROM tasks WHERE job_id = ? AND name = ?
     ON CONFLICT DO NOTHING`,
    [job.id, instanceId, job.priority, job.seq, job.ownerId, notBeforeUs, job.id, taskName],
  );
}

/** Marks the job Running (once) when its first instance starts. */
async function markJobRunning(tx: SqlDriver, job: JobContext, nowUs: number): Promise<void> {
  const changed = await tx.run(
    "UPDATE jobs SET state = 'Running', started_us = COALESCE(started_us, ?) WHERE id = ? AND state = 'Waiting'",
    [nowUs, job.id],
  );
  if (changed) await appendEvent(tx, nowUs, eventName('Job', 'Running'), job.id, '', null, 'Running');
}

/** Applies instance-count deltas to one task's counters, nothing more. */
export async function shiftCounts(
  tx: SqlDriver,
  jobId: string,
  taskName: string,
  delta: CountsDelta,
): Promise<void> {
  await shiftAndRead(tx, jobId, taskName, delta);
}

/**
 * The deltas applied, and the task's state and counters as they are then: one statement, where a claim
 * or a report would otherwise make two round trips to the database. With `freshFrom`, the task's fresh
 * range also starts there at the earliest (claims take fresh instances from its front).
 */
async function shiftAndRead(
  tx: SqlDriver,
  jobId: string,
  taskName: string,
  delta: CountsDelta,
  freshFrom?: number,
): Promise<Row | undefined> {
  const fresh = freshFrom === undefined ? -1 : freshFrom;
  return queryOne(
    tx,
    `UPDATE tasks SET waiting_count = waiting_count + ?, running_count = running_count + ?,
       finished_count = finished_count + ?, failed_count = failed_count + ?, stopped_count = stopped_count + ?,
       fresh_from = CASE WHEN fresh_from < ? THEN ? ELSE fresh_from END
     WHERE job_id = ? AND name = ?
     RETURNING state, waiting_count, running_count, finished_count, failed_count, stopped_count`,
    [
      delta.waiting ?? 0,
      delta.running ?? 0,
      delta.finished ?? 0,
      delta.failed ?? 0,
      delta.stopped ?? 0,
      fresh,
      fresh,
      jobId,
      taskName,
    ],
  );
}

/**
 * Applies instance-count deltas to one task, then settles the task (and, through it, successors and the job)
 * when nothing of it waits or runs any more. `freshFrom`: see shiftAndRead.
 */
export async function adjustTask(
  tx: SqlDriver,
  job: JobContext,
  taskName: string,
  delta: CountsDelta,
  nowUs: number,
  freshFrom?: number,
): Promise<void> {
  const task = await shiftAndRead(tx, job.id, taskName, delta, freshFrom);
  if (!task) return;
  let state = task.state as State;
  if ((delta.running ?? 0) > 0 && state === 'Waiting') {
    state = 'Running';
    await tx.run(
      "UPDATE tasks SET state = 'Running', started_us = COALESCE(started_us, ?) WHERE job_id = ? AND name = ?",
      [nowUs, job.id, taskName],
    );
    await appendEvent(tx, nowUs, eventName('Task', 'Running'), job.id, taskName, null, 'Running');
    await markJobRunning(tx, job, nowUs);
  }
  if (isTerminal(state)) return;
  const settled = settledTaskState(countsOf(task), job.failOnInstanceFail);
  if (settled) await settleTask(tx, job, taskName, settled, nowUs);
}

/**
 * Counter changes of many instances added up per task, then applied with one adjustTask each: a report of
 * eight ended instances of one task updates its row once, not eight times.
 */
export class TaskDeltas {
  private readonly tasks = new Map<string, { job: JobContext; taskName: string; delta: StateCounts }>();

  add(job: JobContext, taskName: string, delta: CountsDelta): void {
    const key = `${job.id}\u0000${taskName}`;
    let entry = this.tasks.get(key);
    if (!entry) {
      entry = { job, taskName, delta: { waiting: 0, running: 0, finished: 0, failed: 0, stopped: 0 } };
      this.tasks.set(key, entry);
    }
    for (const state of Object.keys(delta) as (keyof StateCounts)[]) entry.delta[state] += delta[state] ?? 0;
  }

  /** Applies what was added (of one job only, with `jobId`), in the order first added, and forgets it. */
  async apply(tx: SqlDriver, nowUs: number, jobId?: string): Promise<void> {
    for (const [key, { job, taskName, delta }] of [...this.tasks]) {
      if (jobId !== undefined && job.id !== jobId) continue;
      this.tasks.delete(key);
      await adjustTask(tx, job, taskName, delta, nowUs);
    }
  }
}

async function settleTask(
  tx: SqlDriver,
  job: JobContext,
  taskName: string,
  state: State,
  nowUs: number,
): Promise<void> {
  await tx.run('UPDATE tasks SET state = ?, ended_us = ? WHERE job_id = ? AND name = ?', [
    state,
    nowUs,
    job.id,
    taskName,
  ]);
  await appendEvent(tx, nowUs, eventName('Task', state), job.id, taskName, null, state);
  if (state === 'Finished') await releaseSuccessors(tx, job, taskName, nowUs);
  await settleJob(tx, job, nowUs);
}

/** A task whose predecessors have all finished becomes runnable: its instances enter the queue. */
async function releaseSuccessors(
  tx: SqlDriver,
  job: JobContext,
  finishedTask: string,
  nowUs: number,
): Promise<void> {
  const tasks = await tx.query('SELECT name, predecessors_json, instance_count FROM tasks WHERE job_id = ?', [
    job.id,
  ]);
  for (const row of tasks) {
    const preds = JSON.parse(String(row.predecessors_json)) as string[];
    if (!preds.includes(finishedTask)) continue;
    const name = String(row.name);
    const pending = await queryOne(
      tx,
      'UPDATE tasks SET pending_predecessors = pending_predecessors - 1 WHERE job_id = ? AND name = ? RETURNING pending_predecessors',
      [job.id, name],
    );
    if (pending && Number(pending.pending_predecessors) === 0) await enqueueTask(tx, job, name);
  }
  void nowUs;
}

async function settleJob(tx: SqlDriver, job: JobContext, nowUs: number): Promise<void> {
  const counts = await taskStateCounts(tx, job.id);
  const state = settledJobState(counts, job.taskTotal);
  if (!state) return;
  const changed = await tx.run(
    "UPDATE jobs SET state = ?, ended_us = ? WHERE id = ? AND state IN ('Waiting', 'Running')",
    [state, nowUs, job.id],
  );
  if (changed) await appendEvent(tx, nowUs, eventName('Job', state), job.id, '', null, state);
}

export async function taskStateCounts(tx: SqlDriver, jobId: string): Promise<StateCounts> {
  const rows = await tx.query('SELECT state, COUNT(*) AS n FROM tasks WHERE job_id = ? GROUP BY state', [
    jobId,
  ]);
  const counts: StateCounts = { waiting: 0, running: 0, finished: 0, failed: 0, stopped: 0 };
  for (const row of rows) counts[String(row.state).toLowerCase() as keyof StateCounts] = Number(row.n);
  return counts;
}

/**
 * Ends a job early: Stopped by the user, or Failed because an instance failed with JobFailOnInstanceFail.
 * Queued work is withdrawn, unfinished instances become Stopped (running attempts are then cancelled
 * through their worker's lease renewal), unfinished tasks become Stopped except a failing task (Failed).
 * It costs what has rows (instances that ran); fresh instances are stopped through their task's fresh_state.
 */
export async function haltJob(
  tx: SqlDriver,
  job: JobContext,
  state: 'Stopped' | 'Failed',
  nowUs: number,
  failingTask = '',
  message = '',
): Promise<void> {
  await tx.run('DELETE FROM queue WHERE job_id = ?', [job.id]);
  const active = await tx.query<Row>(
    'SELECT name FROM tasks WHERE job_id = ? AND (waiting_count > 0 OR running_count > 0) ORDER BY task_order',
    [job.id],
  );
  for (const row of active) {
    const name = String(row.name);
    // Per task: each statement then seeks (job, task, state) in instances_state, not the job's whole history.
    await appendInstanceEvents(tx, nowUs, job.id, name, ['Waiting', 'Running'], 'Stopped');
    await tx.run(
      `UPDATE attempts SET state = 'Stopped', ended_us = ? WHERE state = 'Running'
         AND (job_id, task_name, instance_id, attempt_no) IN (SELECT job_id, task_name, instance_id, attempt_count
           FROM instances WHERE job_id = ? AND task_name = ? AND state = 'Running')`,
      [nowUs, job.id, name],
    );
    await tx.run(
      `UPDATE instances SET state = 'Stopped', ended_us = ?, lease_until_us = NULL
       WHERE job_id = ? AND task_name = ? AND state IN ('Waiting', 'Running')`,
      [nowUs, job.id, name],
    );
  }
  // Everything that waited or ran is Stopped now, fresh instances included.
  await tx.run(
    `UPDATE tasks SET stopped_count = stopped_count + waiting_count + running_count, waiting_count = 0,
       running_count = 0, fresh_state = 'Stopped' WHERE job_id = ?`,
    [job.id],
  );
  const open = await tx.query<Row>(
    "SELECT name FROM tasks WHERE job_id = ? AND state IN ('Waiting', 'Running') ORDER BY task_order",
    [job.id],
  );
  for (const row of open) {
    const name = String(row.name);
    const taskState = name === failingTask ? 'Failed' : 'Stopped';
    await tx.run('UPDATE tasks SET state = ?, ended_us = ? WHERE job_id = ? AND name = ?', [
      taskState,
      nowUs,
      job.id,
      name,
    ]);
    await appendEvent(tx, nowUs, eventName('Task', taskState), job.id, name, null, taskState);
  }
  const changed = await tx.run(
    "UPDATE jobs SET state = ?, ended_us = ?, message = ? WHERE id = ? AND state IN ('Waiting', 'Running')",
    [state, nowUs, message, job.id],
  );
  if (changed)
    await appendEvent(
      tx,
      nowUs,
      eventName('Job', state),
      job.id,
      '',
      null,
      state,
      message ? { Message: message } : {},
    );
}

/**
 * Where a task's first queued instance (or the given one) stands in its cluster's claim order: how many
 * queued instances come before it, summed over at most `cap` queue rows (a fresh range counts its span), so
 * a figure of `cap` or more is a lower bound.
 */
export async function queuePosition(
  db: SqlDriver,
  jobId: string,
  taskName: string,
  instanceId: number | undefined,
  cap: number,
): Promise<{ clusterId: string; ahead: number; notBeforeUs: number } | undefined> {
  if (instanceId !== undefined)
    return (await queuePositions(db, jobId, taskName, [instanceId], cap)).get(instanceId);
  const row = await queryOne(
    db,
    `SELECT cluster_id, priority, job_seq, task_order, instance_id, not_before_us FROM queue
     WHERE job_id = ? AND task_name = ? ORDER BY instance_id LIMIT 1`,
    [jobId, taskName],
  );
  if (!row) return undefined;
  return {
    clusterId: String(row.cluster_id),
    ahead: await queuedAhead(db, row, cap),
    notBeforeUs: Number(row.not_before_us ?? 0),
  };
}

/** Queued instances before a queue row in its cluster's claim order, summed over at most `cap` rows. */
async function queuedAhead(db: SqlDriver, row: Row, cap: number): Promise<number> {
  // The claim order (queue_order): priority first, then job, task and instance.
  const { cluster_id, priority, job_seq, task_order, instance_id } = row;
  const ahead = await queryOne(
    db,
    `SELECT COALESCE(SUM(span), 0) AS n FROM (SELECT span FROM queue WHERE cluster_id = ? AND (priority > ? OR
       (priority = ? AND (job_seq < ? OR (job_seq = ? AND (task_order < ? OR (task_order = ? AND
       instance_id < ?)))))) LIMIT ?) ahead`,
    [
      cluster_id,
      priority,
      priority,
      job_seq,
      job_seq,
      task_order,
      task_order,
      instance_id,
      cap,
    ] as SqlValue[],
  );
  return Number(ahead?.n ?? 0);
}

/**
 * The places in the queue of a page of a task's instances (those queued; others are left out): one count
 * per queue row they are in, however many of them a fresh range holds.
 */
export async function queuePositions(
  db: SqlDriver,
  jobId: string,
  taskName: string,
  instanceIds: readonly number[],
  cap: number,
): Promise<Map<number, { clusterId: string; ahead: number; notBeforeUs: number }>> {
  const out = new Map<number, { clusterId: string; ahead: number; notBeforeUs: number }>();
  if (instanceIds.length === 0) return out;
  const lo = Math.min(...instanceIds);
  const hi = Math.max(...instanceIds);
  const rows = await db.query(
    `SELECT cluster_id, priority, job_seq, task_order, instance_id, span, not_before_us FROM queue
     WHERE job_id = ? AND task_name = ? AND instance_id <= ? AND instance_id + span > ? ORDER BY instance_id`,
    [jobId, taskName, hi, lo],
  );
  for (const row of rows) {
    const start = Number(row.instance_id);
    const end = start + Number(row.span);
    const inRow = instanceIds.filter((id) => id >= start && id < end);
    if (inRow.length === 0) continue;
    const ahead = await queuedAhead(db, row, cap);
    for (const id of inRow)
      out.set(id, {
        clusterId: String(row.cluster_id),
        ahead: ahead + (id - start),
        notBeforeUs: Number(row.not_before_us ?? 0),
      });
  }
  return out;
}

export async function ownerRunningCount(db: SqlDriver, ownerId: number): Promise<number> {
  const row = await queryOne(
    db,
    `SELECT COALESCE(SUM(t.running_count), 0) AS n FROM tasks t JOIN jobs j ON j.id = t.job_id
     WHERE j.owner_id = ? AND j.state = 'Running'`,
    [ownerId],
  );
  return Number(row?.n ?? 0);
}

/** An owner's tasks with instances running now, and how many. */
export async function ownerRunningTasks(
  db: SqlDriver,
  specs: TaskSpecCache,
  ownerId: number,
): Promise<{ task: TaskSpec; running: number }[]> {
  const rows = await db.query(
    `SELECT t.job_id, t.name, t.spec_json, t.running_count FROM tasks t JOIN jobs j ON j.id = t.job_id
     WHERE j.owner_id = ? AND j.state = 'Running' AND t.running_count > 0`,
    [ownerId],
  );
  return rows.map((row) => ({ task: specs.fromRow(row), running: Number(row.running_count) }));
}
