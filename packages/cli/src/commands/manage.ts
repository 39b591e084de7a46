/**
 * `create_job` (`cj`): submit a JobDescription as JSON ('<json>' or -f job.json); `update_job` (`uj`):
 * change a job's priority.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { WireJobDescription } from '@shoal/sdk';
import { resolveJobRef, retireJobRows, sessionCache } from '../cache.js';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import { CliError, type CommandRegistrar } from '../context.js';
import { checked, wholeNumber } from '../option-values.js';

interface CreateFlags extends ConnectionFlags {
  file?: string;
  show_json?: boolean;
}

export const registerManageCommands: CommandRegistrar = (program, ctx, exit) => {
  const cj = program
    .command('create_job')
    .alias('cj')
    .description('submit a JobDescription given as JSON text or a JSON file')
    .argument('[json]', 'the JobDescription as JSON text')
    .option('-f, --file <job.json>', 'read the JobDescription from this file')
    .option('--show_json', 'print the description instead of submitting it');
  withConnectionOptions(cj).action(async (text: string | undefined, flags: CreateFlags) => {
    if (!text && !flags.file) throw new CliError("create_job needs '<json>' or -f job.json");
    let source = text ?? '';
    if (flags.file) {
      const path = resolve(ctx.cwd, flags.file);
      try {
        source = await readFile(path, 'utf8');
      } catch {
        throw new CliError(`cannot read ${path}`);
      }
    }
    let description: WireJobDescription;
    try {
      description = JSON.parse(source) as WireJobDescription;
    } catch (err) {
      throw new CliError(
        `the job description is not JSON: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (flags.show_json) {
      ctx.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
      return;
    }
    const session = await openSession(flags, ctx);
    // Retired before the call: even a failed attempt leaves the user unsure what the list now holds.
    await retireJobRows(session, 'a job was submitted since');
    const { Id } = await session.client.createJob(description);
    ctx.stdout.write(`Job created: ${Id}\n`);
    exit.code = 0;
  });

  const uj = program
    .command('update_job')
    .alias('uj')
    .description("change a job's priority")
    .argument('<jobId>', 'job id, or row number of the last listing')
    .requiredOption(
      '-p, --priority <n>',
      'new priority, 0..1000 (larger runs first)',
      checked((t) => wholeNumber(t, 0, 1000)),
    )
    .option('-y, --yes', 'no confirmation (accepted for bcs compatibility)');
  withConnectionOptions(uj).action(async (ref: string, flags: ConnectionFlags & { priority: number }) => {
    const session = await openSession(flags, ctx);
    const jobId = resolveJobRef(ref, await sessionCache(session));
    await session.client.changeJobPriority(jobId, flags.priority);
    ctx.stdout.write(`Updated ${jobId}: priority ${flags.priority}\n`);
    exit.code = 0;
  });
};
