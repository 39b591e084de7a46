/** Job creation and the read side: jobs, tasks, instances, attempts with their metrics. */
import type {
  State,
  AttemptRecord,
  InstanceRecord,
  JobRecord,
  ListChildrenQuery,
  ListJobsQuery,
  NewJob,
  Page,
  StateCounts,
  TaskRecord,
} from '@shoal/core';
import { DEFAULT_CLUSTER_ID, emptyCounts } from '@shoal/core';
import type { Row, SqlDriver, SqlValue } from '../driver.js';
import { queryOne } from '../driver.js';
import { appendEvent, eventName } from './events.js';
import { freshInstance, freshRange } from './fresh.js';
import { attemptRecord, instanceRecord, jobRecord, taskRecord } from './mappers.js';
import { enqueueTask, loadJobContext } from './progress.js';
import type { TaskSpecCache } from './task-spec-cache.js';

export async function createJob(
  db: SqlDriver,
  job: NewJob,
  nowUs: number,
): Promise<{ id: string; created: boolean }> {
  return db.transaction(async (tx) => {
    if (job.idempotentToken !== null) {
      const existing = await queryOne(tx, 'SELECT id FROM jobs WHERE owner_id = ? AND idempotent_token = ?', [
        job.ownerId,
        job.idempotentToken,
      ]);
      if (existing) return { id: String(existing.id), created: false };
    }
    const { spec } = job;
    await tx.run(
      `INSERT INTO jobs (id, owner_id, name, description, priority, state, fail_on_instance_fail, auto_release,
         description_json, spec_json, idempotent_token, task_total, created_us)
       VALUES (?, ?, ?, ?, ?, 'Waiting', ?, ?, ?, ?, ?, ?, ?)`,
      [
        job.id,
        job.ownerId,
        spec.name,
        spec.description,
        spec.priority,
        spec.jobFailOnInstanceFail ? 1 : 0,
        spec.autoRelease ? 1 : 0,
        job.descriptionJson,
        JSON.stringify({ notification: spec.notification }),
        job.idempotentToken,
        spec.tasks.length,
        nowUs,
      ],
    );
    await appendEvent(tx, nowUs, eventName('Job', 'Waiting'), job.id, '', null, 'Waiting');
    let order = 0;
    for (const task of spec.tasks) {
      const preds = spec.predecessors[task.name] ?? [];
      await tx.run(
        `INSERT INTO tasks (job_id, name, task_order, state, instance_count, max_retry_count, cluster_id, spec_json,
           predecessors_json, pending_predecessors, waiting_count)
         VALUES (?, ?, ?, 'Waiting', ?, ?, ?, ?, ?, ?, ?)`,
        [
          job.id,
          task.name,
          order++,
          task.instanceCount,
          task.maxRetryCount,
          task.clusterId || task.autoCluster?.clusterId || job.unnamedClusterId || DEFAULT_CLUSTER_ID,
          JSON.stringify(task),
          JSON.stringify(preds),
          preds.length,
          task.instanceCount,
        ],
      );
      // No instance rows: the task's instances are fresh (tasks.fresh_from = 0) until they start.
      await appendEvent(tx, nowUs, eventName('Task', 'Waiting'), job.id, task.name, null, 'Waiting');
    }
    const ctx = await loadJobContext(tx, job.id);
    for (const task of spec.tasks) {
      if ((spec.predecessors[task.name] ?? []).length === 0) await enqueueTask(tx, ctx!, task.name);
    }
    return { id: job.id, created: true };
  });
}

/** Task and instance metrics for a set of jobs, in one query. */
async function jobMetrics(
  db: SqlDriver,
  jobIds: readonly string[],
): Promise<Map<string, [StateCounts, StateCounts]>> {
  const result = new Map<string, [StateCounts, StateCounts]>();
  if (jobIds.length === 0) return result;
  for (const id of jobIds) result.set(id, [emptyCounts(), emptyCounts()]);
  const rows = await db.query(
    `SELECT job_id, state, COUNT(*) AS n, SUM(waiting_count) AS w, SUM(running_count) AS r,
       SUM(finished_count) AS f, SUM(failed_count) AS x, SUM(stopped_count) AS s
     FROM tasks WHERE job_id IN (${jobIds.map(() => '?').join(', ')}) GROUP BY job_id, state`,
    jobIds,
  );
  for (const row of rows) {
    const entry = result.get(String(row.job_id));
    if (!entry) continue;
    const [tasks, instances] = entry;
    tasks[String(row.state).toLowerCase() as keyof StateCounts] += Number(row.n);
    instances.waiting += Number(row.w);
    instances.running += Number(row.r);
    instances.finished += Number(row.f);
    instances.failed += Number(row.x);
    instances.stopped += Number(row.s);
  }
  return result;
}

async function withMetrics(db: SqlDriver, rows: Row[]): Promise<JobRecord[]> {
  const metrics = await jobMetrics(
    db,
    rows.map((row) => String(row.id)),
  );
  return rows.map((row) => {
    const [tasks, instances] = metrics.get(String(row.id)) ?? [emptyCounts(), emptyCounts()];
    return jobRecord(row, tasks, instances);
  });
}

const JOB_COLUMNS =
  'seq, id, owner_id, name, description, priority, state, message, fail_on_instance_fail, auto_release, created_us, started_us, ended_us, ' +
  '(SELECT u.name FROM users u WHERE u.owner_id = jobs.owner_id) AS owner_name';

export async function getJob(db: SqlDriver, id: string): Promise<JobRecord | undefined> {
  const row = await queryOne(db, `SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ? AND deleted_us IS NULL`, [id]);
  return row ? (await withMetrics(db, [row]))[0] : undefined;
}

function statesClause(states: readonly string[] | undefined, column: string, params: SqlValue[]): string {
  if (!states || states.length === 0) return '';
  params.push(...states);
  return ` AND ${column} IN (${states.map(() => '?').join(', ')})`;
}

/** Newest first; the marker is the id of the first job of the page. */
export async function countJobs(db: SqlDriver, ownerId: number, states: readonly State[]): Promise<number> {
  if (states.length === 0) return 0;
  const row = await queryOne(
    db,
    `SELECT COUNT(*) AS n FROM jobs WHERE owner_id = ? AND deleted_us IS NULL AND state IN (${states.map(() => '?').join(', ')})`,
    [ownerId, ...states],
  );
  return Number(row?.n ?? 0);
}

export async function listJobs(db: SqlDriver, query: ListJobsQuery): Promise<Page<JobRecord>> {
  const params: SqlValue[] = [];
  let where = 'WHERE deleted_us IS NULL';
  if (query.ownerId !== undefined) {
    where += ' AND owner_id = ?';
    params.push(query.ownerId);
  }
  where += statesClause(query.states, 'state', params);
  if (query.nameContains) {
    // LIKE with its wildcards escaped: the text is matched as written.
    where += " AND LOWER(name) LIKE ? ESCAPE '\\'";
    params.push(`%${query.nameContains.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (query.marker) {
    where += ' AND seq <= (SELECT seq FROM jobs WHERE id = ?)';
    params.push(query.marker);
  }
  params.push(query.limit + 1);
  const rows = await db.query(`SELECT ${JOB_COLUMNS} FROM jobs ${where} ORDER BY seq DESC LIMIT ?`, params);
  const next = rows.length > query.limit ? String(rows.pop()!.id) : '';
  return { items: await withMetrics(db, rows), nextMarker: next };
}

export async function getJobDescription(db: SqlDriver, id: string): Promise<string | undefined> {
  const row = await queryOne(db, 'SELECT description_json FROM jobs WHERE id = ? AND deleted_us IS NULL', [
    id,
  ]);
  return row ? String(row.description_json) : undefined;
}

export async function getTask(
  db: SqlDriver,
  specs: TaskSpecCache,
  jobId: string,
  name: string,
): Promise<TaskRecord | undefined> {
  const row = await queryOne(db, 'SELECT * FROM tasks WHERE job_id = ? AND name = ?', [jobId, name]);
  return row ? taskRecord(row, specs.fromRow(row)) : undefined;
}

/** In DAG order; the marker is the name of the first task of the page. */
export async function listTasks(
  db: SqlDriver,
  specs: TaskSpecCache,
  jobId: string,
  query: ListChildrenQuery,
): Promise<Page<TaskRecord>> {
  const params: SqlValue[] = [jobId];
  let where = 'WHERE job_id = ?';
  where += statesClause(query.states, 'state', params);
  if (query.marker) {
    where += ' AND task_order >= (SELECT task_order FROM tasks WHERE job_id = ? AND name = ?)';
    params.push(jobId, query.marker);
  }
  params.push(query.limit + 1);
  const rows = await db.query(`SELECT * FROM tasks ${where} ORDER BY task_order LIMIT ?`, params);
  const next = rows.length > query.limit ? String(rows.pop()!.name) : '';
  return { items: rows.map((row) => taskRecord(row, specs.fromRow(row))), nextMarker: next };
}

export async function getInstance(
  db: SqlDriver,
  jobId: string,
  taskName: string,
  instanceId: number,
): Promise<InstanceRecord | undefined> {
  const row = await queryOne(
    db,
    'SELECT * FROM instances WHERE job_id = ? AND task_name = ? AND instance_id = ?',
    [jobId, taskName, instanceId],
  );
  if (row) return instanceRecord(row);
  const fresh = await freshRange(db, jobId, taskName);
  return fresh && instanceId >= fresh.from && instanceId < fresh.to
    ? freshInstance(fresh, instanceId)
    : undefined;
}

/**
 * By instance number; the marker is the number of the first instance of the page. Rows (instances that
 * started) come first in number order, fresh instances after them, so a page is one indexed read of rows
 * and, past them, numbers counted out without reading anything.
 */
export async function listInstances(
  db: SqlDriver,
  jobId: string,
  taskName: string,
  query: ListChildrenQuery,
): Promise<Page<InstanceRecord>> {
  const fresh = await freshRange(db, jobId, taskName);
  if (!fresh) return { items: [], nextMarker: '' };
  const start = query.marker ? Number(query.marker) : 0;
  const want = query.limit + 1;
  const items: InstanceRecord[] = [];
  if (start < fresh.from) {
    const params: SqlValue[] = [jobId, taskName, start];
    const where =
      'WHERE job_id = ? AND task_name = ? AND instance_id >= ?' + statesClause(query.states, 'state', params);
    params.push(want);
    const rows = await db.query(`SELECT * FROM instances ${where} ORDER BY instance_id LIMIT ?`, params);
    items.push(...rows.map(instanceRecord));
  }
  const freshListed = !query.states?.length || query.states.includes(fresh.state);
  for (let id = Math.max(start, fresh.from); freshListed && items.length < want && id < fresh.to; id++)
    items.push(freshInstance(fresh, id));
  const next = items.length > query.limit ? String(items.pop()!.instanceId) : '';
  return { items, nextMarker: next };
}

export async function listAttempts(
  db: SqlDriver,
  jobId: string,
  taskName: string,
  instanceId: number,
): Promise<AttemptRecord[]> {
  const rows = await db.query(
    'SELECT * FROM attempts WHERE job_id = ? AND task_name = ? AND instance_id = ? ORDER BY attempt_no',
    [jobId, taskName, instanceId],
  );
  return rows.map(attemptRecord);
}
