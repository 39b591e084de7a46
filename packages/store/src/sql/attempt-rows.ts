/**
 * The rows a claim, a report and a lease renewal write, in batches: their columns, the statements that
 * write many at once, and the reads that check many at once.
 */
import { insertStatement, type RowUpdate } from '../deferred-writes.js';
import type { Row, SqlDriver } from '../driver.js';
import { queryOne } from '../driver.js';
import type { AttemptKey } from './mappers.js';

export const ATTEMPT_COLUMNS = [
  'job_id',
  'task_name',
  'instance_id',
  'attempt_no',
  'worker_id',
  'state',
  'started_us',
];

/** What a claim takes of one task: its fresh instances and the attempt numbers they started with. */
export interface TaskTake {
  readonly job: string;
  readonly task: string;
  n: number;
  /** Where the task's fresh range began when the claim looked. */
  readonly firstFresh: number;
  /** Where it begins after the claim. */
  freshFrom: number;
  readonly fresh: number[];
  readonly started: Map<number, number>;
}

const FRESH_COLUMNS = [
  'job_id',
  'task_name',
  'instance_id',
  'state',
  'attempt_count',
  'started_us',
  'worker_id',
  'lease_until_us',
];
const FRESH_ROWS_PER_STATEMENT = 64;

/** Gives the claimed fresh instances of one task their rows, Running their first attempt. */
export async function insertFresh(
  tx: SqlDriver,
  take: TaskTake,
  workerId: string,
  nowUs: number,
  leaseUntilUs: number,
): Promise<void> {
  for (let i = 0; i < take.fresh.length; i += FRESH_ROWS_PER_STATEMENT) {
    const ids = take.fresh.slice(i, i + FRESH_ROWS_PER_STATEMENT);
    const rows = await tx.query(
      `${insertStatement('instances', FRESH_COLUMNS, ids.length)} ON CONFLICT DO NOTHING RETURNING instance_id, attempt_count`,
      ids.flatMap((id) => [take.job, take.task, id, 'Running', 1, nowUs, workerId, leaseUntilUs]),
    );
    for (const row of rows) take.started.set(Number(row.instance_id), Number(row.attempt_count));
  }
}

/** Starts the next attempt of an instance that ran before; its attempt number, or undefined if it moved on. */
export async function startAgain(
  tx: SqlDriver,
  jobId: string,
  taskName: string,
  instanceId: number,
  workerId: string,
  nowUs: number,
  leaseUntilUs: number,
): Promise<number | undefined> {
  const updated = await queryOne(
    tx,
    `UPDATE instances SET state = 'Running', attempt_count = attempt_count + 1, started_us = ?, ended_us = NULL,
       worker_id = ?, lease_until_us = ?, exit_code = NULL, error_code = '', error_message = '', detail = '',
       cpu_ms = NULL, peak_memory_bytes = NULL
     WHERE job_id = ? AND task_name = ? AND instance_id = ? AND state = 'Waiting'
     RETURNING attempt_count`,
    [nowUs, workerId, leaseUntilUs, jobId, taskName, instanceId],
  );
  return updated ? Number(updated.attempt_count) : undefined;
}

/** PostgreSQL text cannot hold NUL; command output can. Strip it at the boundary rather than fail the report. */
export function text(value: string, max = 4000): string {
  return value.replace(/\u0000/g, '').slice(0, max);
}

/** A reported usage figure as stored: a non-negative integer, or NULL (unmeasured, or nonsense). */
export function usageValue(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : null;
}

/** The columns naming one attempt, as RowUpdate values: its instance and attempt number. */
export const ATTEMPT_KEY: RowUpdate['columns'] = [
  ['job_id', 'TEXT'],
  ['task_name', 'TEXT'],
  ['instance_id', 'BIGINT'],
  ['attempt_no', 'BIGINT'],
];

/**
 * An ended attempt's history row: only this worker's attempt, and never over an attempt already declared
 * Lost (a Stopped one takes the result it ran to).
 */
export const ATTEMPT_ENDED: RowUpdate = {
  table: 'attempts',
  columns: [
    ...ATTEMPT_KEY,
    ['worker_id', 'TEXT'],
    ['state', 'TEXT'],
    ['ended_us', 'BIGINT'],
    ['exit_code', 'BIGINT'],
    ['signal', 'TEXT'],
    ['duration_ms', 'BIGINT'],
    ['error_code', 'TEXT'],
    ['error_message', 'TEXT'],
    ['cpu_ms', 'BIGINT'],
    ['peak_memory_bytes', 'BIGINT'],
  ],
  set: `state = CASE WHEN attempts.state = 'Running' THEN v.state ELSE attempts.state END, ended_us = v.ended_us,
    exit_code = v.exit_code, signal = v.signal, duration_ms = v.duration_ms, error_code = v.error_code,
    error_message = v.error_message, cpu_ms = v.cpu_ms, peak_memory_bytes = v.peak_memory_bytes`,
  where: `attempts.job_id = v.job_id AND attempts.task_name = v.task_name AND attempts.instance_id = v.instance_id
    AND attempts.attempt_no = v.attempt_no AND attempts.worker_id = v.worker_id
    AND attempts.state IN ('Running', 'Stopped')`,
};

/** The instance of a current attempt that ended: its result, or Waiting again for a retry. */
export const INSTANCE_ENDED: RowUpdate = {
  table: 'instances',
  columns: [
    ...ATTEMPT_KEY,
    ['state', 'TEXT'],
    ['ended_us', 'BIGINT'],
    ['exit_code', 'BIGINT'],
    ['error_code', 'TEXT'],
    ['error_message', 'TEXT'],
    ['detail', 'TEXT'],
    ['retried', 'BIGINT'],
    ['cpu_ms', 'BIGINT'],
    ['peak_memory_bytes', 'BIGINT'],
  ],
  set: `state = v.state, ended_us = v.ended_us, exit_code = v.exit_code, error_code = v.error_code,
    error_message = v.error_message, detail = v.detail, lease_until_us = NULL,
    retry_count = instances.retry_count + v.retried, cpu_ms = v.cpu_ms, peak_memory_bytes = v.peak_memory_bytes`,
  where: `instances.job_id = v.job_id AND instances.task_name = v.task_name AND instances.instance_id = v.instance_id
    AND instances.state = 'Running' AND instances.attempt_count = v.attempt_no`,
};

export function instanceKey(jobId: string, taskName: string, instanceId: number): string {
  return `${jobId}\u0000${taskName}\u0000${instanceId}`;
}

/** Instances read per statement when a report is checked against them. */
const REPORTED_PER_STATEMENT = 64;

/** The rows of the reported instances (with their task's retry limit), by instanceKey. */
export async function readReported(tx: SqlDriver, keys: readonly AttemptKey[]): Promise<Map<string, Row>> {
  const byTask = new Map<string, { jobId: string; taskName: string; ids: number[] }>();
  for (const { jobId, taskName, instanceId } of keys) {
    const taskKey = `${jobId}\u0000${taskName}`;
    let entry = byTask.get(taskKey);
    if (!entry) {
      entry = { jobId, taskName, ids: [] };
      byTask.set(taskKey, entry);
    }
    entry.ids.push(instanceId);
  }
  const rows = new Map<string, Row>();
  for (const { jobId, taskName, ids } of byTask.values()) {
    for (let i = 0; i < ids.length; i += REPORTED_PER_STATEMENT) {
      const chunk = ids.slice(i, i + REPORTED_PER_STATEMENT);
      const found = await tx.query(
        `SELECT i.instance_id, i.state, i.attempt_count, i.retry_count, i.worker_id, t.max_retry_count
         FROM instances i JOIN tasks t ON t.job_id = i.job_id AND t.name = i.task_name
         WHERE i.job_id = ? AND i.task_name = ? AND i.instance_id IN (${chunk.map(() => '?').join(', ')})`,
        [jobId, taskName, ...chunk],
      );
      for (const row of found) rows.set(instanceKey(jobId, taskName, Number(row.instance_id)), row);
    }
  }
  return rows;
}

export const LEASES_PER_STATEMENT = 64;

/** A held attempt's lease, extended if it is still the worker's current attempt of its instance. */
export const LEASE_RENEWED: RowUpdate = {
  table: 'instances',
  columns: [...ATTEMPT_KEY, ['worker_id', 'TEXT'], ['lease_until_us', 'BIGINT']],
  set: 'lease_until_us = v.lease_until_us',
  where: `instances.job_id = v.job_id AND instances.task_name = v.task_name AND instances.instance_id = v.instance_id
    AND instances.state = 'Running' AND instances.attempt_count = v.attempt_no AND instances.worker_id = v.worker_id`,
};
