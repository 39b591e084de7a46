/**
 * `shoal ch <id>` (`check`): the job with its tasks and, for anything that failed, why; for tasks still
 * waiting, why they wait (PendingReason).
 */
import type { WireInstance } from '@shoal/core';
import { resolveJobRef, sessionCache } from '../cache.js';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import type { CommandRegistrar } from '../context.js';
import { instanceProblem } from '../format/jobs.js';
import { renderTable } from '../format/table.js';
import { collectTasks, showJob } from './job.js';

export const registerCheckCommand: CommandRegistrar = (program, ctx) => {
  const command = program
    .command('ch')
    .alias('check')
    .description('check a job: its state, its tasks, why waiting ones wait and why failed instances failed')
    .argument('<jobId>', 'job id, or row number of the last listing')
    .option('--json', 'print JSON: {Job, Tasks, FailedInstances}');
  withConnectionOptions(command).action(async (ref: string, flags: ConnectionFlags & { json?: boolean }) => {
    const session = await openSession(flags, ctx);
    const jobId = resolveJobRef(ref, await sessionCache(session));
    const tasks = await collectTasks(session.client, jobId);
    const waiting = tasks.filter((t) => t.PendingReason);
    const failed: { TaskName: string; Instance: WireInstance }[] = [];
    for (const task of tasks) {
      if (!task.InstanceMetrics?.FailedCount) continue;
      for await (const inst of session.client.instances(jobId, task.TaskName, { state: 'Failed' }))
        if (inst.State === 'Failed') failed.push({ TaskName: task.TaskName, Instance: inst });
    }
    if (flags.json) {
      const job = await session.client.getJob(jobId);
      const FailedInstances = failed.map(({ TaskName, Instance }) => ({
        TaskName,
        InstanceId: Instance.InstanceId,
        ExitCode: Instance.Result?.ExitCode ?? null,
        ErrorCode: Instance.Result?.ErrorCode ?? '',
        Reason: instanceProblem(Instance),
      }));
      ctx.stdout.write(`${JSON.stringify({ Job: job, Tasks: tasks, FailedInstances }, null, 2)}\n`);
      return;
    }
    await showJob(session, jobId, false, ctx, tasks);
    if (waiting.length > 0) {
      const rows = waiting.map((t) => [t.TaskName, t.PendingReason!.Code, t.PendingReason!.Message]);
      ctx.stdout.write(`\nWaiting:\n${renderTable(['Task', 'Why', 'Detail'], rows)}`);
    }
    const rows = failed.map(({ TaskName, Instance }) => [
      TaskName,
      String(Instance.InstanceId),
      String(Instance.Result?.ExitCode ?? '-'),
      instanceProblem(Instance) || '-',
    ]);
    if (rows.length > 0) {
      ctx.stdout.write(`\nFailed instances:\n${renderTable(['Task', 'Instance', 'Exit', 'Reason'], rows)}`);
      ctx.stdout.write(`\nSee their output with "shoal log ${jobId} <task> <instance>".\n`);
    }
  });
};
