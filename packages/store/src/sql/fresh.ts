/**
 * Fresh instances: the instances of a task that never started. They have no row, so a task of ten million
 * costs what a task of one does until its instances run: the task says where its rows end (fresh_from) and
 * what state its fresh instances are in (fresh_state: Waiting, or Stopped once the job was halted), and the
 * queue holds them as one row spanning them all. A claim gives an instance its row as it starts it.
 */
import type { InstanceRecord, State } from '@shoal/core';
import type { SqlDriver } from '../driver.js';
import { queryOne } from '../driver.js';

export interface FreshRange {
  readonly jobId: string;
  readonly taskName: string;
  /** The first fresh instance id; every id below has a row. */
  readonly from: number;
  /** One past the last (the task's InstanceCount). */
  readonly to: number;
  readonly state: State;
  /** When a Stopped range was stopped: its task's end. */
  readonly endedAtUs: number | null;
}

/** The task's fresh instances; undefined when there is no such task. */
export async function freshRange(
  db: SqlDriver,
  jobId: string,
  taskName: string,
): Promise<FreshRange | undefined> {
  const row = await queryOne(
    db,
    'SELECT fresh_from, instance_count, fresh_state, ended_us FROM tasks WHERE job_id = ? AND name = ?',
    [jobId, taskName],
  );
  if (!row) return undefined;
  return {
    jobId,
    taskName,
    from: Number(row.fresh_from),
    to: Number(row.instance_count),
    state: row.fresh_state as State,
    endedAtUs: row.ended_us === null || row.ended_us === undefined ? null : Number(row.ended_us),
  };
}

/** A fresh instance as the API shows it: never attempted. */
export function freshInstance(range: FreshRange, instanceId: number): InstanceRecord {
  return {
    jobId: range.jobId,
    taskName: range.taskName,
    instanceId,
    state: range.state,
    retryCount: 0,
    attemptCount: 0,
    startedAtUs: null,
    endedAtUs: range.state === 'Stopped' ? range.endedAtUs : null,
    exitCode: null,
    errorCode: '',
    errorMessage: '',
    detail: '',
    workerId: '',
    cpuMs: null,
    peakMemoryBytes: null,
  };
}
