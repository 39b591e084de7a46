/**
 * `shoal job [id] [task]` (`j`): recent jobs, one job with its tasks, or one task with its instances.
 * Listings are numbered and remembered so later commands accept a row number for an id.
 */
import type { WireJob, WireTask } from '@shoal/core';
import type { ShoalClient } from '@shoal/sdk';
import { listingOwner, loadCache, resolveJobRef, resolveTaskRef, saveCache, sessionCache } from '../cache.js';
import { openSession, withConnectionOptions, type ConnectionFlags, type Session } from '../connection.js';
import type { CliContext, CommandRegistrar } from '../context.js';
import { checked, listOf, wholeNumber } from '../option-values.js';
import { useColour } from '../format/colour.js';
import { renderInstances, renderJobDetail, renderJobList } from '../format/jobs.js';
import { STATES } from '@shoal/core';

interface JobFlags extends ConnectionFlags {
  top?: number;
  all?: boolean;
  state?: string[];
  json?: boolean;
  description?: boolean;
  id?: string;
  name?: string;
}

async function listJobs(session: Session, flags: JobFlags, ctx: CliContext): Promise<number> {
  const states = flags.state ?? [];
  const top = flags.all ? Number.POSITIVE_INFINITY : (flags.top ?? 10);
  const jobs: WireJob[] = [];
  // One state is filtered by the server; several are filtered here.
  const filter = states.length === 1 ? { state: states[0] } : {};
  for await (const job of session.client.jobs({ ...filter, maxItemCount: 100 })) {
    if (states.length > 1 && !states.includes(job.State)) continue;
    if (flags.id && !job.Id.toLowerCase().includes(flags.id.toLowerCase())) continue;
    if (flags.name && !job.Name.toLowerCase().includes(flags.name.toLowerCase())) continue;
    jobs.push(job);
  }
  jobs.sort((a, b) => (a.CreationTime < b.CreationTime ? 1 : a.CreationTime > b.CreationTime ? -1 : 0));
  const shown = jobs.slice(0, top);
  const { tasks } = await loadCache(session.cacheFile);
  await saveCache(session.cacheFile, {
    jobs: shown.map((j) => j.Id),
    tasks,
    listedFor: listingOwner(session),
  });
  ctx.stdout.write(
    flags.json ? `${JSON.stringify(shown, null, 2)}\n` : renderJobList(shown, ctx.now(), useColour(ctx)),
  );
  return 0;
}

export async function collectTasks(client: ShoalClient, jobId: string): Promise<WireTask[]> {
  const tasks: WireTask[] = [];
  for await (const task of client.tasks(jobId)) tasks.push(task);
  return tasks;
}

export async function taskNames(client: ShoalClient, jobId: string): Promise<string[]> {
  return (await collectTasks(client, jobId)).map((t) => t.TaskName);
}

/** Prints one job with its tasks (listed here unless the caller has them) and remembers the task rows. */
export async function showJob(
  session: Session,
  ref: string,
  json: boolean,
  ctx: CliContext,
  listed?: WireTask[],
): Promise<WireJob> {
  const cache = await sessionCache(session);
  const jobId = resolveJobRef(ref, cache);
  const job = await session.client.getJob(jobId);
  const tasks = listed ?? (await collectTasks(session.client, jobId));
  await saveCache(session.cacheFile, { ...cache, tasks: { jobId, names: tasks.map((t) => t.TaskName) } });
  ctx.stdout.write(
    json
      ? `${JSON.stringify({ Job: job, Tasks: tasks }, null, 2)}\n`
      : renderJobDetail(job, tasks, ctx.now(), useColour(ctx)),
  );
  return job;
}

async function showTask(
  session: Session,
  ref: string,
  taskRef: string,
  json: boolean,
  ctx: CliContext,
): Promise<number> {
  const cache = await sessionCache(session);
  const jobId = resolveJobRef(ref, cache);
  const taskName = await resolveTaskRef(jobId, taskRef, cache, () => taskNames(session.client, jobId));
  const task = await session.client.getTask(jobId, taskName);
  const instances = [];
  for await (const inst of session.client.instances(jobId, taskName)) instances.push(inst);
  ctx.stdout.write(
    json
      ? `${JSON.stringify({ Task: task, Instances: instances }, null, 2)}\n`
      : renderInstances(task, instances, ctx.now(), useColour(ctx)),
  );
  return 0;
}

export const registerJobCommand: CommandRegistrar = (program, ctx, exit) => {
  const command = program
    .command('job')
    .alias('j')
    .description('list recent jobs; with an id (or row number) show the job, with a task its instances')
    .argument('[jobId]', 'job id, or row number of the last listing')
    .argument('[task]', 'task name, or row number of the last job detail')
    .option(
      '-t, --top <n>',
      'show the n most recent jobs (default 10)',
      checked((t) => wholeNumber(t, 1)),
    )
    .option('-a, --all', 'show all jobs')
    .option(
      '-s, --state <states>',
      `only jobs in these states, e.g. Running,Waiting (${STATES.join(', ')})`,
      checked((t) => listOf(t, STATES)),
    )
    .option('-i, --id <text>', 'only jobs whose id contains this text')
    .option('-n, --name <text>', 'only jobs whose name contains this text')
    .option('-d, --description', 'print the description the job was submitted with')
    .option('--json', 'print JSON instead of a table');
  withConnectionOptions(command).action(
    async (jobRef: string | undefined, taskRef: string | undefined, flags: JobFlags) => {
      const session = await openSession(flags, ctx);
      if (!jobRef) {
        exit.code = await listJobs(session, flags, ctx);
      } else if (flags.description) {
        const jobId = resolveJobRef(jobRef, await sessionCache(session));
        ctx.stdout.write(`${JSON.stringify(await session.client.getJobDescription(jobId), null, 2)}\n`);
      } else if (taskRef) {
        exit.code = await showTask(session, jobRef, taskRef, Boolean(flags.json), ctx);
      } else {
        await showJob(session, jobRef, Boolean(flags.json), ctx);
      }
    },
  );
};
