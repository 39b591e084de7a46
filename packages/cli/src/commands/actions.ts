/**
 * `shoal stop|start|delete <id[,id…]>` (bcs: `sj`/`stop_job`, `rj`/`restart_job`, `dj`/`delete_job`).
 * Each id is tried even when an earlier one fails; the exit code is 1 if any failed.
 */
import { ShoalApiError, type ShoalClient } from '@shoal/sdk';
import { resolveJobRef, retireJobRows, sessionCache } from '../cache.js';
import { confirmed } from '../confirm.js';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import type { CommandRegistrar } from '../context.js';
import { formatError } from '../format/error.js';

interface Action {
  name: string;
  aliases: string[];
  summary: string;
  done: string;
  run(client: ShoalClient, jobId: string): Promise<void>;
}

const ACTIONS: readonly Action[] = [
  {
    name: 'stop',
    aliases: ['sj', 'stop_job'],
    summary: 'stop waiting or running jobs',
    done: 'Stopped',
    run: (c, id) => c.stopJob(id),
  },
  {
    name: 'start',
    aliases: ['rj', 'restart_job'],
    summary: 'restart stopped or failed jobs',
    done: 'Started',
    run: (c, id) => c.startJob(id),
  },
  {
    name: 'delete',
    aliases: ['dj', 'delete_job'],
    summary: 'delete jobs that are not waiting or running',
    done: 'Deleted',
    run: (c, id) => c.deleteJob(id),
  },
];

/** What the user is told before a deletion: each job's id, name and state, or why it could not be read. */
async function describeJobs(client: ShoalClient, ids: readonly string[]): Promise<string> {
  const lines = await Promise.all(
    ids.map(async (id) => {
      try {
        const job = await client.getJob(id);
        return `  ${id} ${JSON.stringify(job.Name)} (${job.State})`;
      } catch (err) {
        return `  ${id} (${err instanceof ShoalApiError ? err.code : 'cannot be read'})`;
      }
    }),
  );
  return `Delete ${ids.length === 1 ? 'this job and its logs' : `these ${ids.length} jobs and their logs`}?\n${lines.join('\n')}`;
}

/** The error, plus what to do when the job is still active. */
function explain(action: Action, jobId: string, err: unknown, debug: boolean): string {
  const text = formatError(err, debug);
  if (action.name === 'delete' && err instanceof ShoalApiError && err.code === 'StateConflict')
    return `${text}  to stop it: shoal stop ${jobId}\n`;
  return text;
}

export const registerActionCommands: CommandRegistrar = (program, ctx, exit) => {
  for (const action of ACTIONS) {
    const command = program
      .command(action.name)
      .aliases(action.aliases)
      .description(action.summary)
      .argument('<jobIds>', 'job ids or row numbers of the last listing, comma separated');
    if (action.name === 'delete')
      command.option('-y, --yes', 'do not ask for confirmation (asked only on a terminal)');
    else command.option('-y, --yes', 'accepted for bcs compatibility (nothing is asked)');
    // What start always does (Tencent's RetryJobs): said out loud for scripts that mean exactly that.
    if (action.name === 'start')
      command.option(
        '--failed',
        're-run only the failed and stopped instances, keeping finished ones and their outputs (always so)',
      );
    withConnectionOptions(command).action(
      async (refs: string, flags: ConnectionFlags & { yes?: boolean }) => {
        const session = await openSession(flags, ctx);
        const cache = await sessionCache(session);
        const debug = Boolean(ctx.env['DEBUG']);
        let failed = 0;
        const ids: string[] = [];
        for (const ref of refs
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean)) {
          try {
            ids.push(resolveJobRef(ref, cache));
          } catch (err) {
            failed++;
            ctx.stderr.write(formatError(err, debug));
          }
        }
        if (action.name === 'delete' && ids.length > 0) {
          if (!(await confirmed(ctx, await describeJobs(session.client, ids), flags.yes))) {
            exit.code = 1;
            return;
          }
          await retireJobRows(session, 'jobs were deleted since');
        }
        for (const jobId of ids) {
          try {
            await action.run(session.client, jobId);
            ctx.stdout.write(`${action.done} ${jobId}\n`);
          } catch (err) {
            failed++;
            ctx.stderr.write(explain(action, jobId, err, debug));
          }
        }
        exit.code = failed ? 1 : 0;
      },
    );
  }
};
