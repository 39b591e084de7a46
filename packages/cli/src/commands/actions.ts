/**
 * `shoal stop|start|delete <id[,id…]>` (bcs: `sj`/`stop_job`, `rj`/`restart_job`, `dj`/`delete_job`).
 * Each id is tried even when an earlier one fails; the exit code is 1 if any failed.
 */
import type { ShoalClient } from '@shoal/sdk';
import { loadCache, resolveJobRef } from '../cache.js';
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

export const registerActionCommands: CommandRegistrar = (program, ctx, exit) => {
  for (const action of ACTIONS) {
    const command = program
      .command(action.name)
      .aliases(action.aliases)
      .description(action.summary)
      .argument('<jobIds>', 'job ids or row numbers of the last listing, comma separated')
      .option('-y, --yes', 'do not ask for confirmation (accepted for bcs compatibility; nothing is asked)');
    withConnectionOptions(command).action(async (refs: string, flags: ConnectionFlags) => {
      const session = await openSession(flags, ctx);
      const cache = await loadCache(session.cacheFile);
      let failed = 0;
      for (const ref of refs
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean)) {
        try {
          const jobId = resolveJobRef(ref, cache);
          await action.run(session.client, jobId);
          ctx.stdout.write(`${action.done} ${jobId}\n`);
        } catch (err) {
          failed++;
          ctx.stderr.write(formatError(err, Boolean(ctx.env['DEBUG'])));
        }
      }
      exit.code = failed ? 1 : 0;
    });
  }
};
