/**
 * Clusters (bcs `cluster` / `c`, `create_cluster` / `cc`, `update_cluster` / `uc`, `delete_cluster` /
 * `dc`, `delete_cluster_instance` / `dci`, `recreate_cluster_instance` / `rci`): the default cluster `cls-local` and your own, their groups
 * and their workers.
 */
import type { WireCluster, WireClusterInstance } from '@shoal/core';
import type { ShoalClient, WireClusterDescription } from '@shoal/sdk';
import { confirmed } from '../confirm.js';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import { UsageError, type CommandRegistrar } from '../context.js';
import { formatError } from '../format/error.js';
import { renderFields, renderTable } from '../format/table.js';
import { relativeTime } from '../format/time.js';
import { items, parseEnv } from '../jobcfg/pairs.js';
import { checked, oneOf, wholeNumber } from '../option-values.js';

interface ShowFlags extends ConnectionFlags {
  description?: boolean;
  json?: boolean;
}

interface CreateFlags extends ConnectionFlags {
  image: string;
  type: string;
  nodes: number;
  group: string;
  description?: string;
  user_data?: string;
  env?: string;
  resource_type: 'OnDemand' | 'Spot';
  spot_price_limit?: string;
  provider: 'static' | 'local' | 'slurm';
  max_nodes?: number;
  show_json?: boolean;
}

interface UpdateFlags extends ConnectionFlags {
  nodes?: number;
  image?: string;
  user_data?: string;
  env?: string;
  spot_price_limit?: string;
  yes?: boolean;
  show_json?: boolean;
}

const nodes = checked((t) => wholeNumber(t, 0, 1000));

function groupsLine(c: WireCluster): string {
  return Object.entries(c.Groups)
    .map(([name, g]) => `${name}: ${g.ActualVMCount}/${g.DesiredVMCount} ${g.InstanceType}`)
    .join(', ');
}

function price(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--spot_price_limit must be a number >= 0, got "${text}"`);
  return n;
}

export const registerClusterCommands: CommandRegistrar = (program, ctx, exit) => {
  const show = program
    .command('cluster')
    .alias('c')
    .description('list clusters, show one, or list the workers of one of its groups')
    .argument('[clusterId]', 'a cluster id')
    .argument('[group]', 'a group of that cluster: list its workers')
    .option('-d, --description', 'show descriptions')
    .option('--json', 'print JSON');
  withConnectionOptions(show).action(
    async (id: string | undefined, group: string | undefined, flags: ShowFlags) => {
      const { client } = await openSession(flags, ctx);
      const now = ctx.now();
      if (id && group) {
        const vms: WireClusterInstance[] = [];
        for await (const vm of client.clusterInstances(id, group)) vms.push(vm);
        if (flags.json) return void ctx.stdout.write(`${JSON.stringify(vms, null, 2)}\n`);
        ctx.stdout.write(
          renderTable(
            ['#', 'Id', 'State', 'HostName', 'Slots', 'Joined', 'Last heartbeat'],
            vms.map((vm, n) => [
              String(n + 1),
              vm.Id,
              vm.State,
              vm.HostName,
              String(vm.Slots),
              relativeTime(vm.CreationTime, now),
              relativeTime(vm.LastHeartbeatTime, now),
            ]),
          ),
        );
        return;
      }
      if (id) {
        const c = await client.getCluster(id);
        if (flags.json) return void ctx.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
        ctx.stdout.write(
          renderFields([
            ['Id', c.Id],
            ['Name', c.Name],
            ['State', c.State],
            ['Provider', c.Provider],
            ['ImageId', c.ImageId],
            ['InstanceType', c.InstanceType || '-'],
            ['OwnerId', String(c.OwnerId)],
            ['Created', c.CreationTime],
            ['Description', c.Description || '-'],
            [
              'Workers',
              `${c.Metrics.RunningCount} running, ${c.Metrics.StoppingCount} leaving, ${c.Metrics.StoppedCount} silent`,
            ],
          ]),
        );
        ctx.stdout.write('\n');
        ctx.stdout.write(
          renderTable(
            ['Group', 'InstanceType', 'ResourceType', 'Desired', 'Actual'],
            Object.entries(c.Groups).map(([name, g]) => [
              name,
              g.InstanceType,
              g.ResourceType,
              String(g.DesiredVMCount),
              String(g.ActualVMCount),
            ]),
          ),
        );
        return;
      }
      const all: WireCluster[] = [];
      for await (const c of client.clusters()) all.push(c);
      if (flags.json) return void ctx.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
      ctx.stdout.write(
        renderTable(
          [
            '#',
            'Id',
            'Name',
            'State',
            'Provider',
            'Groups (actual/desired type)',
            'Created',
            ...(flags.description ? ['Description'] : []),
          ],
          all.map((c, n) => [
            String(n + 1),
            c.Id,
            c.Name,
            c.State,
            c.Provider,
            groupsLine(c),
            relativeTime(c.CreationTime, now),
            ...(flags.description ? [c.Description] : []),
          ]),
        ),
      );
    },
  );

  const create = program
    .command('create_cluster')
    .alias('cc')
    .description('create a cluster of one group of workers')
    .argument('<name>', 'cluster name')
    .option('-i, --image <image>', 'image id', 'img-ubuntu')
    .option('-t, --type <type>', 'instance type (bcs it lists them)', 'shoal.local')
    .option('-n, --nodes <n>', 'workers wanted in the group', nodes, 1)
    .option(
      '--max_nodes <n>',
      'elastic: grow with demand up to this many workers, back to --nodes when idle',
      nodes,
    )
    .option('-g, --group <name>', 'group name', 'group')
    .option('-d, --description <text>', 'description')
    .option('-u, --user_data <k:v,...>', 'user data')
    .option('-e, --env <k:v,...>', 'environment variables of the cluster')
    .option(
      '--resource_type <type>',
      'OnDemand or Spot',
      checked((t) => oneOf(t, ['OnDemand', 'Spot'] as const)),
      'OnDemand',
    )
    .option('--spot_price_limit <price>', 'spot price limit (kept, not enforced)')
    .option(
      '--provider <provider>',
      'where its workers come from: static (shoal agent on other hosts), local, slurm',
      checked((t) => oneOf(t, ['static', 'local', 'slurm'] as const)),
      'static',
    )
    .option('--show_json', 'print the description instead of creating the cluster');
  withConnectionOptions(create).action(async (name: string, flags: CreateFlags) => {
    const limit = price(flags.spot_price_limit);
    const description: WireClusterDescription = {
      Name: name,
      Description: flags.description ?? '',
      ImageId: flags.image,
      InstanceType: flags.type,
      Provider: flags.provider,
      Groups: {
        [flags.group]: {
          DesiredVMCount: flags.nodes,
          ...(flags.max_nodes ? { MaxVMCount: flags.max_nodes } : {}),
          InstanceType: flags.type,
          ResourceType: flags.resource_type,
          ...(limit !== undefined ? { SpotStrategy: 'SpotWithPriceLimit', SpotPriceLimit: limit } : {}),
        },
      },
      ...(flags.user_data ? { UserData: parseEnv(flags.user_data) } : {}),
      ...(flags.env ? { EnvVars: parseEnv(flags.env) } : {}),
    };
    if (flags.show_json) return void ctx.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
    const { client } = await openSession(flags, ctx);
    const { Id } = await client.createCluster(description);
    ctx.stdout.write(`Cluster created: ${Id}\n`);
    exit.code = 0;
  });

  const update = program
    .command('update_cluster')
    .alias('uc')
    .description("change a cluster: a group's worker count, its image, user data or environment")
    .argument('<clusterId>', 'cluster id')
    .argument('[group]', 'the group to resize (default: the cluster has only one)')
    .option('-n, --nodes <n>', 'workers wanted in the group', nodes)
    .option('-i, --image <image>', 'image id')
    .option('-u, --user_data <k:v,...>', 'user data (replaces it)')
    .option('-e, --env <k:v,...>', 'environment variables (replace them)')
    .option('--spot_price_limit <price>', 'spot price limit of the group')
    .option('-y, --yes', 'do not ask for confirmation (accepted for bcs compatibility; nothing is asked)')
    .option('--show_json', 'print the change instead of making it');
  withConnectionOptions(update).action(
    async (id: string, groupArg: string | undefined, flags: UpdateFlags) => {
      const limit = price(flags.spot_price_limit);
      const { client } = await openSession(flags, ctx);
      let group = groupArg;
      if ((flags.nodes !== undefined || limit !== undefined) && !group) {
        const groups = Object.keys((await client.getCluster(id)).Groups);
        if (groups.length !== 1)
          throw new UsageError(`${id} has groups ${groups.join(', ')}: name the one to change`);
        group = groups[0]!;
      }
      const change = {
        ...(group
          ? {
              Groups: {
                [group]: {
                  ...(flags.nodes !== undefined ? { DesiredVMCount: flags.nodes } : {}),
                  ...(limit !== undefined ? { SpotPriceLimit: limit } : {}),
                },
              },
            }
          : {}),
        ...(flags.image ? { ImageId: flags.image } : {}),
        ...(flags.user_data ? { UserData: parseEnv(flags.user_data) } : {}),
        ...(flags.env ? { EnvVars: parseEnv(flags.env) } : {}),
      };
      if (Object.keys(change).length === 0)
        throw new UsageError('nothing to change: give -n, -i, -u, -e or --spot_price_limit');
      if (flags.show_json) return void ctx.stdout.write(`${JSON.stringify(change, null, 2)}\n`);
      await client.modifyCluster(id, change);
      ctx.stdout.write(`Cluster updated: ${id}\n`);
      exit.code = 0;
    },
  );

  const remove = program
    .command('delete_cluster')
    .alias('dc')
    .description('delete clusters no unfinished task runs on')
    .argument('<clusterIds>', 'cluster ids, comma separated')
    .option('-y, --yes', 'do not ask for confirmation');
  withConnectionOptions(remove).action(async (ids: string, flags: ConnectionFlags & { yes?: boolean }) => {
    const list = items(ids);
    if (!(await confirmed(ctx, `Delete ${list.length} cluster(s): ${list.join(', ')}`, flags.yes))) {
      exit.code = 1;
      return;
    }
    const { client } = await openSession(flags, ctx);
    let failed = false;
    for (const id of list) {
      try {
        await client.deleteCluster(id);
        ctx.stdout.write(`Deleted ${id}\n`);
      } catch (err) {
        failed = true;
        ctx.stderr.write(formatError(err, Boolean(ctx.env['DEBUG'])));
      }
    }
    exit.code = failed ? 1 : 0;
  });

  const token = program
    .command('cluster_token')
    .alias('ct')
    .description('make a worker token of a cluster: what shoal agent joins it with (Shoal addition)')
    .argument('<clusterId>', 'cluster id');
  withConnectionOptions(token).action(async (id: string, flags: ConnectionFlags) => {
    const session = await openSession(flags, ctx);
    const made = await session.client.createWorkerToken(id);
    ctx.stdout.write(`Worker token ${made.TokenId} (shown once):\n${made.Token}\n`);
    ctx.stdout.write(
      `Start a worker with:\n  shoal agent --server ${session.client.options.endpoint} --cluster ${id} --token ${made.Token}\n`,
    );
    exit.code = 0;
  });

  /** A command on one worker of a cluster (dci, rci): confirmed unless -y, then one call. */
  const onWorker = (
    name: string,
    alias: string,
    description: string,
    question: (vm: string, where: string) => string,
    act: (client: ShoalClient, id: string, group: string, vm: string) => Promise<void>,
    done: (vm: string, id: string) => string,
  ) => {
    const command = program
      .command(name)
      .alias(alias)
      .description(description)
      .argument('<clusterId>', 'cluster id')
      .argument('<group>', 'group')
      .argument('<instanceId>', 'worker id (i-...)')
      .option('-y, --yes', 'do not ask for confirmation');
    withConnectionOptions(command).action(
      async (id: string, group: string, vm: string, flags: ConnectionFlags & { yes?: boolean }) => {
        if (!(await confirmed(ctx, question(vm, `${id}/${group}`), flags.yes))) {
          exit.code = 1;
          return;
        }
        const { client } = await openSession(flags, ctx);
        await act(client, id, group, vm);
        ctx.stdout.write(`${done(vm, id)}\n`);
        exit.code = 0;
      },
    );
  };
  onWorker(
    'delete_cluster_instance',
    'dci',
    'ask a worker to leave its cluster: it finishes what it runs and takes nothing new',
    (vm, where) => `Remove worker ${vm} from ${where}`,
    (client, id, group, vm) => client.deleteClusterInstance(id, group, vm),
    (vm, id) => `Worker ${vm} is leaving ${id}`,
  );
  onWorker(
    'recreate_cluster_instance',
    'rci',
    'recreate a worker: what it runs is cut off and runs again, without using a retry',
    (vm, where) => `Recreate worker ${vm} of ${where}`,
    (client, id, group, vm) => client.recreateClusterInstance(id, group, vm),
    (vm) => `Worker ${vm} recreated: what it ran runs again`,
  );
};
