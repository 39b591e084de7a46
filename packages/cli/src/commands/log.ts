/**
 * `shoal log <id> [task] [instance]` (`l`): the stdout/stderr of every instance's latest attempt,
 * read through the server's log route; `--follow` streams one instance's log while it runs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ShoalApiError, type LogStream, type ShoalClient } from '@shoal/sdk';
import { resolveJobRef, resolveTaskRef, sessionCache } from '../cache.js';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import { UsageError, type CommandRegistrar } from '../context.js';
import { taskNames } from './job.js';

interface LogFlags extends ConnectionFlags {
  json?: boolean;
  stderr?: boolean;
  stdout?: boolean;
  follow?: boolean;
  dir?: string;
}

function instanceNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`instance must be a whole number >= 0, got "${text}"`);
  return Number(text);
}

/** Why nothing was printed: the instances are done and wrote nothing, or nothing was written yet. */
async function nothingWritten(
  client: ShoalClient,
  jobId: string,
  task: string | undefined,
  instance: string | undefined,
  streams: readonly LogStream[],
): Promise<string> {
  const job = await client.getJob(jobId);
  const who =
    task === undefined
      ? `the instances of ${jobId}`
      : instance === undefined
        ? `the instances of task ${task}`
        : `instance ${instance} of task ${task}`;
  const where = streams.length === 1 ? streams[0]! : 'stdout or stderr';
  if (job.State === 'Waiting' || job.State === 'Running')
    return `No log output for ${jobId} yet: it is ${job.State} and ${who} wrote nothing to ${where} so far.\n`;
  return `${jobId} is ${job.State}: ${who} wrote nothing to ${where}.\n`;
}

export const registerLogCommand: CommandRegistrar = (program, ctx, exit) => {
  const command = program
    .command('log')
    .alias('l')
    .description('print the logs of a job (all tasks and instances unless narrowed)')
    .argument('<jobId>', 'job id, or row number of the last listing')
    .argument('[task]', 'only this task')
    .argument('[instance]', 'only this instance number')
    .option('-e, --stderr', 'stderr only')
    .option('-o, --stdout', 'stdout only')
    .option('-f, --follow', 'stream the log of one instance until its attempt ends')
    .option(
      '-d, --dir <dir>',
      'save each log to <dir>/<stream>.<job>.<task>.<instance> instead of printing it',
    )
    .option(
      '--json',
      'print JSON: [{TaskName, InstanceId, Stream, Text}] (with -f, one such object per line)',
    );
  withConnectionOptions(command).action(
    async (ref: string, taskRef: string | undefined, instanceRef: string | undefined, flags: LogFlags) => {
      const session = await openSession(flags, ctx);
      const { client } = session;
      const cache = await sessionCache(session);
      const jobId = resolveJobRef(ref, cache);
      const streams: LogStream[] =
        flags.stderr && !flags.stdout
          ? ['stderr']
          : flags.stdout && !flags.stderr
            ? ['stdout']
            : ['stdout', 'stderr'];

      if (flags.json && flags.dir)
        throw new UsageError('--json prints the logs and --dir saves them: use one');
      if (flags.follow) {
        if (!taskRef || instanceRef === undefined)
          throw new UsageError('--follow needs a task and an instance number');
        const stream = streams.length === 1 ? streams[0]! : 'stdout';
        const taskName = await resolveTaskRef(jobId, taskRef, cache, () => taskNames(client, jobId));
        const instanceId = instanceNumber(instanceRef);
        for await (const chunk of client.followLog(jobId, taskName, instanceId, stream)) {
          if (!flags.json) ctx.stdout.write(chunk);
          else
            ctx.stdout.write(
              `${JSON.stringify({ TaskName: taskName, InstanceId: instanceId, Stream: stream, Text: Buffer.from(chunk).toString('utf8') })}\n`,
            );
        }
        return;
      }

      const names = taskRef
        ? [await resolveTaskRef(jobId, taskRef, cache, () => taskNames(client, jobId))]
        : await taskNames(client, jobId);
      let printed = 0;
      const entries: { TaskName: string; InstanceId: number; Stream: LogStream; Text: string }[] = [];
      for (const taskName of names) {
        const ids: number[] = [];
        if (instanceRef !== undefined) ids.push(instanceNumber(instanceRef));
        else for await (const inst of client.instances(jobId, taskName)) ids.push(inst.InstanceId);
        for (const iid of ids) {
          for (const stream of streams) {
            let text: string;
            try {
              text = await client.readLog(jobId, taskName, iid, stream);
            } catch (err) {
              // An instance that never started has no log yet.
              if (err instanceof ShoalApiError && err.code === 'InvalidResource.NotFound') continue;
              throw err;
            }
            if (text === '') continue;
            if (flags.json) {
              entries.push({ TaskName: taskName, InstanceId: iid, Stream: stream, Text: text });
              continue;
            }
            if (flags.dir) {
              const file = join(resolve(ctx.cwd, flags.dir), `${stream}.${jobId}.${taskName}.${iid}`);
              await mkdir(dirname(file), { recursive: true });
              await writeFile(file, text);
              ctx.stdout.write(`Saved ${file}\n`);
              printed++;
              continue;
            }
            ctx.stdout.write(
              `${printed ? '\n' : ''}==> ${taskName}.${iid} ${stream} <==\n${text}${text.endsWith('\n') ? '' : '\n'}`,
            );
            printed++;
          }
        }
      }
      if (flags.json) ctx.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      else if (printed === 0)
        ctx.stderr.write(await nothingWritten(client, jobId, taskRef, instanceRef, streams));
      exit.code = 0;
    },
  );
};
