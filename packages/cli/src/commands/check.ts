/**
 * `shoal ch <id>` (`check`): the job with its tasks and, for anything that failed, why.
 */
import { loadCache, resolveJobRef } from '../cache.js';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import type { CommandRegistrar } from '../context.js';
import { instanceProblem } from '../format/jobs.js';
import { renderTable } from '../format/table.js';
import { collectTasks, showJob } from './job.js';

export const registerCheckCommand: CommandRegistrar = (program, ctx) => {
  const command = program
    .command('ch')
    .alias('check')
    .description('check a job: its state, its tasks and the reasons of failed instances')
    .argument('<jobId>', 'job id, or row number of the last listing');
  withConnectionOptions(command).action(async (ref: string, flags: ConnectionFlags) => {
    const session = await openSession(flags, ctx);
    const jobId = resolveJobRef(ref, await loadCache(session.cacheFile));
    await showJob(session, jobId, false, ctx);
    const rows: string[][] = [];
    for (const task of await collectTasks(session.client, jobId)) {
      if (!task.InstanceMetrics?.FailedCount) continue;
      for await (const inst of session.client.instances(jobId, task.TaskName, { state: 'Failed' })) {
        if (inst.State !== 'Failed') continue;
        rows.push([
          task.TaskName,
          String(inst.InstanceId),
          String(inst.Result?.ExitCode ?? '-'),
          instanceProblem(inst) || '-',
        ]);
      }
    }
    if (rows.length > 0) {
      ctx.stdout.write(`\nFailed instances:\n${renderTable(['Task', 'Instance', 'Exit', 'Reason'], rows)}`);
      ctx.stdout.write(`\nSee their output with "shoal log ${jobId} <task> <instance>".\n`);
    }
  });
};
