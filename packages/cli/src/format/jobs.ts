/**
 * Tables and detail views of jobs, tasks and instances.
 */
import type { WireInstance, WireJob, WireTask } from '@shoal/core';
import { doneOfTotal } from './progress.js';
import { paintState } from './colour.js';
import { renderFields, renderTable } from './table.js';
import { elapsed, localTime, relativeTime } from './time.js';

/** The job listing; the `#` column is the row number `shoal ch <n>` accepts. */
export function renderJobList(jobs: readonly WireJob[], nowMs: number, colour = false): string {
  if (jobs.length === 0) return 'No jobs.\n';
  return renderTable(
    ['#', 'Id', 'Name', 'State', 'Tasks', 'Instances', 'Created', 'Elapsed'],
    jobs.map((job, i) => [
      String(i + 1),
      job.Id,
      job.Name,
      paintState(job.State, colour),
      doneOfTotal(job.TaskMetrics),
      instancesCell(job.InstanceMetrics),
      relativeTime(job.CreationTime, nowMs),
      elapsed(job.StartTime, job.EndTime, nowMs),
    ]),
  );
}

function instancesCell(m: WireJob['InstanceMetrics'] | undefined): string {
  const failed = m?.FailedCount ? ` (${m.FailedCount} failed)` : '';
  return `${doneOfTotal(m)}${failed}`;
}

/** A job's fields and its tasks; the `#` column numbers tasks for `shoal job <id> <n>`. */
export function renderJobDetail(
  job: WireJob,
  tasks: readonly WireTask[],
  nowMs: number,
  colour = false,
): string {
  const fields: [string, string][] = [
    ['Id', job.Id],
    ['Name', job.Name],
    ['State', paintState(job.State, colour)],
  ];
  if (job.Message) fields.push(['Message', job.Message]);
  if (job.Description) fields.push(['Description', job.Description]);
  fields.push(
    ['Priority', String(job.Priority)],
    ['Created', `${localTime(job.CreationTime)} (${relativeTime(job.CreationTime, nowMs)})`],
    ['Started', localTime(job.StartTime)],
    ['Ended', localTime(job.EndTime)],
    ['Elapsed', elapsed(job.StartTime, job.EndTime, nowMs)],
    ['Tasks', doneOfTotal(job.TaskMetrics)],
    ['Instances', instancesCell(job.InstanceMetrics)],
  );
  const table = renderTable(
    ['#', 'Task', 'State', 'Instances', 'Running', 'Failed', 'Started', 'Elapsed'],
    tasks.map((task, i) => [
      String(i + 1),
      task.TaskName,
      paintState(task.State, colour),
      doneOfTotal(task.InstanceMetrics),
      String(task.InstanceMetrics?.RunningCount ?? 0),
      String(task.InstanceMetrics?.FailedCount ?? 0),
      localTime(task.StartTime),
      elapsed(task.StartTime, task.EndTime, nowMs),
    ]),
  );
  return `${renderFields(fields)}\n${tasks.length ? table : 'No tasks.\n'}`;
}

/** Why an instance failed, in one line ('' when nothing is known). */
export function instanceProblem(inst: WireInstance): string {
  const parts: string[] = [];
  const result = inst.Result;
  if (result?.ErrorCode) parts.push(result.ErrorCode);
  if (result?.ErrorMessage) parts.push(result.ErrorMessage);
  if (inst.Error?.Code && inst.Error.Code !== result?.ErrorCode) parts.push(inst.Error.Code);
  if (inst.Error?.Message && inst.Error.Message !== result?.ErrorMessage) parts.push(inst.Error.Message);
  return parts.join(': ');
}

/** The instances of one task. */
export function renderInstances(
  task: WireTask,
  instances: readonly WireInstance[],
  nowMs: number,
  colour = false,
): string {
  const header = renderFields([
    ['Task', task.TaskName],
    ['State', task.State],
    ['Instances', doneOfTotal(task.InstanceMetrics)],
  ]);
  const table = renderTable(
    ['Instance', 'State', 'Exit', 'Retries', 'Worker', 'Started', 'Elapsed', 'Error'],
    instances.map((inst) => [
      String(inst.InstanceId),
      paintState(inst.State, colour),
      inst.State === 'Finished' || inst.State === 'Failed' ? String(inst.Result?.ExitCode ?? '-') : '-',
      String(inst.RetryCount ?? 0),
      inst.WorkerId || inst.NodeIp || '-',
      localTime(inst.StartTime),
      elapsed(inst.StartTime, inst.EndTime, nowMs),
      instanceProblem(inst),
    ]),
  );
  return `${header}\n${instances.length ? table : 'No instances.\n'}`;
}
