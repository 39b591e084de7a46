/** User operations on a whole job: stop, start, priority, delete (spec §4 rows 5–8, §7.1). */
import type { JobOperation, State } from '@shoal/core';
import { jobOperationAllowed, notFound, stateConflict } from '@shoal/core';
import type { SqlDriver } from '../driver.js';
import { queryOne } from '../driver.js';
import { appendEvent, eventName } from './events.js';
import type { JobContext } from './progress.js';
import { enqueueTask, haltJob, loadJobContext } from './progress.js';

async function jobFor(tx: SqlDriver, id: string, operation: JobOperation, verb: string): Promise<JobContext> {
  const job = await loadJobContext(tx, id);
  if (!job) throw notFound('job', id);
  if (!jobOperationAllowed(operation, job.state)) {
    const active = job.state === 'Waiting' || job.state === 'Running';
    const hint =
      operation === 'delete' && active ? `Stop it first (POST /jobs/${id}/stop), then delete it.` : undefined;
    throw stateConflict('job', id, job.state, verb, hint);
  }
  return job;
}

export function stopJob(db: SqlDriver, id: string, nowUs: number): Promise<void> {
  return db.transaction(async (tx) => {
    const job = await jobFor(tx, id, 'stop', 'stop');
    await haltJob(tx, job, 'Stopped', nowUs);
  });
}

/**
 * Re-runs what did not finish: Stopped and Failed instances wait again with a fresh retry budget, tasks that
 * did not finish wait again, and tasks whose predecessors all finished go back into the queue.
 */
export function startJob(db: SqlDriver, id: string, nowUs: number): Promise<void> {
  return db.transaction(async (tx) => {
    const job = await jobFor(tx, id, 'start', 'start');
    // Only work of unfinished tasks runs again: a Finished task keeps its results, including instances that
    // failed under JobFailOnInstanceFail=false (re-running them would not re-run the task's successors).
    const open = await tx.query(
      "SELECT name FROM tasks WHERE job_id = ? AND state <> 'Finished' ORDER BY task_order",
      [id],
    );
    for (const row of open) {
      const reopen = "job_id = ? AND task_name = ? AND state IN ('Stopped', 'Failed')";
      const params = [id, String(row.name)];
      await tx.run(
        `INSERT INTO events (time_us, type, job_id, task_name, instance_id, state, detail_json)
         SELECT ?, 'OnInstanceWaiting', job_id, task_name, instance_id, 'Waiting', '{}' FROM instances
         WHERE ${reopen} ORDER BY instance_id`,
        [nowUs, ...params],
      );
      await tx.run(
        `UPDATE instances SET state = 'Waiting', retry_count = 0, ended_us = NULL, lease_until_us = NULL
         WHERE ${reopen}`,
        params,
      );
    }
    // What was Stopped or Failed waits now, fresh instances included.
    await tx.run(
      `UPDATE tasks SET waiting_count = waiting_count + stopped_count + failed_count, stopped_count = 0,
         failed_count = 0, fresh_state = 'Waiting' WHERE job_id = ? AND state <> 'Finished'`,
      [id],
    );
    const tasks = await tx.query(
      'SELECT name, state, predecessors_json FROM tasks WHERE job_id = ? ORDER BY task_order',
      [id],
    );
    const finished = new Set(tasks.filter((t) => t.state === 'Finished').map((t) => String(t.name)));
    for (const task of tasks) {
      const name = String(task.name);
      if (finished.has(name)) continue;
      const preds = JSON.parse(String(task.predecessors_json)) as string[];
      const pending = preds.filter((p) => !finished.has(p)).length;
      await tx.run(
        "UPDATE tasks SET state = 'Waiting', ended_us = NULL, pending_predecessors = ? WHERE job_id = ? AND name = ?",
        [pending, id, name],
      );
      await appendEvent(tx, nowUs, eventName('Task', 'Waiting'), id, name, null, 'Waiting');
    }
    await tx.run("UPDATE jobs SET state = 'Waiting', ended_us = NULL, message = '' WHERE id = ?", [id]);
    await appendEvent(tx, nowUs, eventName('Job', 'Waiting'), id, '', null, 'Waiting');
    const restarted = { ...job, state: 'Waiting' as State };
    for (const task of tasks) {
      const name = String(task.name);
      if (finished.has(name)) continue;
      const preds = JSON.parse(String(task.predecessors_json)) as string[];
      if (preds.every((p) => finished.has(p))) await enqueueTask(tx, restarted, name);
    }
  });
}

export function changeJobPriority(db: SqlDriver, id: string, priority: number, nowUs: number): Promise<void> {
  return db.transaction(async (tx) => {
    const job = await jobFor(tx, id, 'changePriority', 'change the priority of');
    await tx.run('UPDATE jobs SET priority = ? WHERE id = ?', [priority, id]);
    await tx.run('UPDATE queue SET priority = ? WHERE job_id = ?', [priority, id]);
    await appendEvent(tx, nowUs, 'OnPriorityChange', id, '', null, job.state, {
      From: job.priority,
      To: priority,
    });
  });
}

/**
 * Deletes a job as the API sees it, at once and in O(1): it leaves every listing and lookup, and its token
 * may be reused. Its rows (and logs, by the caller) are purged after, in batches: see purgeJob.
 */
export function deleteJob(db: SqlDriver, id: string, nowUs: number): Promise<void> {
  return db.transaction(async (tx) => {
    await jobFor(tx, id, 'delete', 'delete');
    await tx.run('DELETE FROM queue WHERE job_id = ?', [id]);
    await tx.run('UPDATE jobs SET deleted_us = ?, idempotent_token = NULL WHERE id = ?', [nowUs, id]);
  });
}

/** Deleted jobs whose rows are still to be purged, oldest first. */
export async function listDeletedJobs(db: SqlDriver, limit: number): Promise<string[]> {
  const rows = await db.query(
    'SELECT id FROM jobs WHERE deleted_us IS NOT NULL ORDER BY deleted_us, seq LIMIT ?',
    [limit],
  );
  return rows.map((row) => String(row.id));
}

/**
 * Removes up to `batch` rows of a deleted job (attempts, then instances, then the job itself, with its tasks)
 * in one short transaction and says how many went: callers repeat until 0, yielding in between, so purging
 * a job of a million instances never holds the database (or SQLite's event loop) for long.
 */
export function purgeJob(db: SqlDriver, id: string, batch: number): Promise<number> {
  return db.transaction(async (tx) => {
    // One purge of a job at a time (servers sharing PostgreSQL): a batch must not read another's
    // half-deleted rows as "none left".
    const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const job = await queryOne(tx, `SELECT deleted_us FROM jobs WHERE id = ?${lock}`, [id]);
    if (!job || job.deleted_us === null) return 0;
    const rowId = tx.dialect === 'postgres' ? 'ctid' : 'rowid';
    for (const table of ['attempts', 'instances']) {
      const n = await tx.run(
        `DELETE FROM ${table} WHERE ${rowId} IN (SELECT ${rowId} FROM ${table} WHERE job_id = ? LIMIT ?)`,
        [id, batch],
      );
      if (n > 0) return n;
    }
    await tx.run('DELETE FROM tasks WHERE job_id = ?', [id]);
    await tx.run('DELETE FROM jobs WHERE id = ?', [id]);
    return 1;
  });
}

export async function listAutoReleasable(db: SqlDriver, limit: number): Promise<string[]> {
  const rows = await db.query(
    "SELECT id FROM jobs WHERE state = 'Finished' AND auto_release = 1 AND deleted_us IS NULL ORDER BY seq LIMIT ?",
    [limit],
  );
  return rows.map((row) => String(row.id));
}

export async function jobExists(db: SqlDriver, id: string): Promise<boolean> {
  return (
    (await queryOne(db, 'SELECT 1 AS one FROM jobs WHERE id = ? AND deleted_us IS NULL', [id])) !== undefined
  );
}
