/** Row (snake_case) -> record (camelCase) conversions: the only place that knows column names of reads. */
import type {
  AttemptRecord,
  EventRecord,
  InstanceRecord,
  JobRecord,
  State,
  StateCounts,
  TaskRecord,
  TaskSpec,
} from '@shoal/core';
import { emptyCounts } from '@shoal/core';
import type { Row } from '../driver.js';

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export function countsOf(row: Row): StateCounts {
  return {
    waiting: num(row.waiting_count ?? 0),
    running: num(row.running_count ?? 0),
    finished: num(row.finished_count ?? 0),
    failed: num(row.failed_count ?? 0),
    stopped: num(row.stopped_count ?? 0),
  };
}

export function jobRecord(row: Row, taskCounts: StateCounts, instanceCounts: StateCounts): JobRecord {
  return {
    id: str(row.id),
    ownerId: num(row.owner_id),
    ownerName: str(row.owner_name),
    name: str(row.name),
    description: str(row.description),
    priority: num(row.priority),
    state: row.state as State,
    message: str(row.message),
    jobFailOnInstanceFail: num(row.fail_on_instance_fail) === 1,
    autoRelease: num(row.auto_release) === 1,
    createdAtUs: num(row.created_us),
    startedAtUs: numOrNull(row.started_us),
    endedAtUs: numOrNull(row.ended_us),
    taskCounts,
    instanceCounts,
  };
}

export function taskRecord(row: Row, spec: TaskSpec): TaskRecord {
  return {
    jobId: str(row.job_id),
    name: str(row.name),
    state: row.state as State,
    instanceCount: num(row.instance_count),
    predecessors: JSON.parse(str(row.predecessors_json)) as string[],
    startedAtUs: numOrNull(row.started_us),
    endedAtUs: numOrNull(row.ended_us),
    counts: countsOf(row),
    spec,
  };
}

export function instanceRecord(row: Row): InstanceRecord {
  return {
    jobId: str(row.job_id),
    taskName: str(row.task_name),
    instanceId: num(row.instance_id),
    state: row.state as State,
    retryCount: num(row.retry_count),
    attemptCount: num(row.attempt_count),
    startedAtUs: numOrNull(row.started_us),
    endedAtUs: numOrNull(row.ended_us),
    exitCode: numOrNull(row.exit_code),
    errorCode: str(row.error_code),
    errorMessage: str(row.error_message),
    detail: str(row.detail),
    workerId: str(row.worker_id),
    cpuMs: numOrNull(row.cpu_ms),
    peakMemoryBytes: numOrNull(row.peak_memory_bytes),
  };
}

export function attemptRecord(row: Row): AttemptRecord {
  const attemptNo = num(row.attempt_no);
  return {
    attemptId: attemptIdOf(str(row.job_id), str(row.task_name), num(row.instance_id), attemptNo),
    jobId: str(row.job_id),
    taskName: str(row.task_name),
    instanceId: num(row.instance_id),
    attemptNo,
    workerId: str(row.worker_id),
    state: str(row.state),
    startedAtUs: num(row.started_us),
    endedAtUs: numOrNull(row.ended_us),
    exitCode: numOrNull(row.exit_code),
    signal: row.signal === null || row.signal === undefined ? null : String(row.signal),
    durationMs: numOrNull(row.duration_ms),
    errorCode: str(row.error_code),
    errorMessage: str(row.error_message),
    cpuMs: numOrNull(row.cpu_ms),
    peakMemoryBytes: numOrNull(row.peak_memory_bytes),
  };
}

export function eventRecord(row: Row): EventRecord {
  return {
    seq: num(row.seq),
    timeUs: num(row.time_us),
    type: str(row.type),
    jobId: str(row.job_id),
    taskName: str(row.task_name),
    instanceId: numOrNull(row.instance_id),
    state: str(row.state),
    detail: JSON.parse(str(row.detail_json) || '{}') as Record<string, unknown>,
  };
}

/** Attempt ids are `<jobId>.<task>.<iid>.<attemptNo>`; job ids and task names never contain '.'. */
export function attemptIdOf(jobId: string, taskName: string, instanceId: number, attemptNo: number): string {
  return `${jobId}.${taskName}.${instanceId}.${attemptNo}`;
}

export interface AttemptKey {
  readonly jobId: string;
  readonly taskName: string;
  readonly instanceId: number;
  readonly attemptNo: number;
}

export function parseAttemptId(attemptId: string): AttemptKey | undefined {
  const parts = attemptId.split('.');
  if (parts.length !== 4) return undefined;
  const instanceId = Number(parts[2]);
  const attemptNo = Number(parts[3]);
  if (!Number.isInteger(instanceId) || !Number.isInteger(attemptNo)) return undefined;
  return { jobId: parts[0]!, taskName: parts[1]!, instanceId, attemptNo };
}

export { emptyCounts };
