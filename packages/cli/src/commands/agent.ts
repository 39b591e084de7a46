/**
 * `shoal agent`: a worker on this host that joins a cluster of a Shoal server with a worker token
 * (`bcs cluster_token <cls>` makes one) and runs that cluster's attempts in its sandbox, until SIGINT or
 * SIGTERM: the first drains (finishes what it runs, takes nothing new), a second stops at once.
 */
import { UsageError, type CommandRegistrar } from '../context.js';
import { checked, oneOf, wholeNumber } from '../option-values.js';

interface AgentFlags {
  server?: string;
  token?: string;
  cluster?: string;
  group?: string;
  slots: number;
  workDir: string;
  sandbox: 'bwrap' | 'off';
  sandboxUidBase?: number;
  sandboxUidCount?: number;
  drainOnStart?: boolean;
}

function jsonLog(stream: { write(text: string): unknown }) {
  const line = (level: string) => (details: object, message: string) => {
    const err = (details as { err?: unknown }).err;
    const shown = err instanceof Error ? { ...details, err: err.message } : details;
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...shown })}\n`);
  };
  return { info: line('info'), warn: line('warn'), error: line('error') };
}

export const registerAgentCommands: CommandRegistrar = (program, ctx, exit) => {
  program
    .command('agent')
    .description("run a worker on this host in a server's cluster, with a worker token of that cluster")
    .option('--server <url>', 'the Shoal server (env SHOAL_ENDPOINT)')
    .option('--token <token>', 'a worker token of the cluster (env SHOAL_WORKER_TOKEN)')
    .option('--cluster <clusterId>', 'the cluster to join (cls-...)')
    .option('--group <name>', "the cluster's group to join (default: its only group)")
    .option(
      '--slots <n>',
      'attempts run at once',
      checked((t) => wholeNumber(t, 1, 1024)),
      1,
    )
    .option('--work-dir <dir>', 'working directories and logs of attempts on this host', './.shoal-agent')
    .option(
      '--sandbox <mode>',
      'bwrap: every attempt in a sandbox with its limits; off: unconfined as this user',
      checked((t) => oneOf(t, ['bwrap', 'off'] as const)),
      'bwrap',
    )
    .option(
      '--sandbox-uid-base <uid>',
      'first host uid of its sandboxes (default: a block of its own)',
      checked((t) => wholeNumber(t, 1000, 4_294_000_000)),
    )
    .option(
      '--sandbox-uid-count <n>',
      'host uids for its sandboxes',
      checked((t) => wholeNumber(t, 1, 65_536)),
    )
    .action(async (flags: AgentFlags) => {
      const server = flags.server ?? ctx.env['SHOAL_ENDPOINT'];
      const token = flags.token ?? ctx.env['SHOAL_WORKER_TOKEN'];
      if (!server) throw new UsageError('--server (or SHOAL_ENDPOINT) is required');
      if (!token)
        throw new UsageError(
          '--token (or SHOAL_WORKER_TOKEN) is required: bcs cluster_token <clusterId> makes one',
        );
      if (!flags.cluster) throw new UsageError('--cluster is required: the cluster the token belongs to');
      const { startAgent } = await import('@shoal/agent');
      const log = jsonLog(ctx.stderr);
      const firstSignal = ctx.untilSignal();
      const agent = await startAgent({
        server,
        token,
        clusterId: flags.cluster,
        group: flags.group ?? '',
        slots: flags.slots,
        workDir: flags.workDir,
        sandbox: flags.sandbox,
        ...(flags.sandboxUidBase !== undefined ? { sandboxUidBase: flags.sandboxUidBase } : {}),
        ...(flags.sandboxUidCount !== undefined ? { sandboxUidCount: flags.sandboxUidCount } : {}),
        log,
      });
      ctx.stdout.write(`Shoal agent ${agent.workerId} joined ${flags.cluster}\n`);
      await firstSignal;
      log.info(
        { workerId: agent.workerId },
        'draining: finishing what runs, taking nothing new (signal again to stop now)',
      );
      await Promise.race([agent.drain(), ctx.untilSignal().then(() => agent.stop())]);
      exit.code = 0;
    });
};
