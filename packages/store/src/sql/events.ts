import type { SqlDriver } from '../driver.js';

/** Event names follow the notification events of spec §5.7: On<Level><State>. */
export function eventName(level: 'Job' | 'Task' | 'Instance', state: string): string {
  return `On${level}${state}`;
}

const EVENT_COLUMNS = ['time_us', 'type', 'job_id', 'task_name', 'instance_id', 'state', 'detail_json'];

/** Appends one event to the outbox; must run inside the transaction that made the change. */
export async function appendEvent(
  tx: SqlDriver,
  nowUs: number,
  type: string,
  jobId: string,
  taskName = '',
  instanceId: number | null = null,
  state = '',
  detail: Record<string, unknown> = {},
): Promise<void> {
  await tx.insertLater('events', EVENT_COLUMNS, [
    nowUs,
    type,
    jobId,
    taskName,
    instanceId,
    state,
    JSON.stringify(detail),
  ]);
}

/**
 * Appends one instance event per instance of a task matching `fromStates` that has a row, set-based (a stop
 * of a task with 10,000 waiting rows is one statement). Fresh instances (never started) get none: their
 * task's event says it for all of them. Must run before the UPDATE that changes those states.
 */
export async function appendInstanceEvents(
  tx: SqlDriver,
  nowUs: number,
  jobId: string,
  taskName: string,
  fromStates: readonly string[],
  toState: string,
): Promise<void> {
  const marks = fromStates.map(() => '?').join(', ');
  await tx.run(
    `INSERT INTO events (time_us, type, job_id, task_name, instance_id, state, detail_json)
     SELECT ?, ?, job_id, task_name, instance_id, ?, '{}' FROM instances
     WHERE job_id = ? AND task_name = ? AND state IN (${marks}) ORDER BY instance_id`,
    [nowUs, eventName('Instance', toState), toState, jobId, taskName, ...fromStates],
  );
}
