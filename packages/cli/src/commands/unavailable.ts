/**
 * bcs's cluster commands. The server has no clusters yet (jobs run on
 * AutoCluster), so they exist with their options and answer clearly, exit 2, instead of "unknown
 * command".
 */
import type { Command } from 'commander';
import { withConnectionOptions } from '../connection.js';
import type { CommandRegistrar } from '../context.js';

export const NOT_YET = {
  clusters: 'clusters are not available in this Shoal version yet',
};

interface Stub {
  name: string;
  aliases: string[];
  summary: string;
  args: string[];
  options: [string, string][];
  topic: keyof typeof NOT_YET;
}

const STUBS: readonly Stub[] = [
  {
    name: 'cluster',
    aliases: ['c'],
    summary: 'list clusters, or show one',
    args: ['[clusterId]', '[group]'],
    topic: 'clusters',
    options: [
      ['-d, --description', 'show the description'],
      ['-l, --oss_mount_info', 'show mounts'],
      ['--json', 'print JSON'],
    ],
  },
  {
    name: 'create_cluster',
    aliases: ['cc'],
    summary: 'create a cluster',
    args: ['<name>'],
    topic: 'clusters',
    options: [
      ['-i, --image <image>', 'image id'],
      ['-t, --type <type>', 'instance type'],
      ['-n, --nodes <n>', 'nodes'],
      ['-d, --description <text>', 'description'],
      ['-u, --user_data <k:v,...>', 'user data'],
      ['-e, --env <k:v,...>', 'environment'],
      ['--disk <spec>', 'system:<type>:<size>[,data:<type>:<size>:<mount>]'],
      ['--resource_type <type>', 'OnDemand|Spot'],
      ['--spot_price_limit <price>', 'spot price limit'],
      ['-m, --mount <mounts>', 'mounts'],
      ['--show_json', 'print the description'],
    ],
  },
  {
    name: 'update_cluster',
    aliases: ['uc'],
    summary: 'change the nodes of a cluster group',
    args: ['<clusterId>', '[group]'],
    topic: 'clusters',
    options: [
      ['-n, --nodes <n>', 'desired nodes'],
      ['--spot_price_limit <price>', 'spot price limit'],
      ['-y, --yes', 'no confirmation'],
    ],
  },
  {
    name: 'delete_cluster',
    aliases: ['dc'],
    summary: 'delete clusters',
    args: ['<clusterIds>'],
    topic: 'clusters',
    options: [['-y, --yes', 'no confirmation']],
  },
  {
    name: 'recreate_cluster_instance',
    aliases: ['rci'],
    summary: 'recreate a cluster VM',
    args: ['<clusterId>', '<instanceId>'],
    topic: 'clusters',
    options: [['-y, --yes', 'no confirmation']],
  },
  {
    name: 'delete_cluster_instance',
    aliases: ['dci'],
    summary: 'delete a cluster VM',
    args: ['<clusterId>', '<instanceId>'],
    topic: 'clusters',
    options: [['-y, --yes', 'no confirmation']],
  },
];

export const registerUnavailableCommands: CommandRegistrar = (program, ctx, exit) => {
  for (const stub of STUBS) {
    let command: Command = program
      .command(stub.name)
      .aliases(stub.aliases)
      .description(`${stub.summary} (not yet)`);
    for (const arg of stub.args) command = command.argument(arg);
    for (const [flags, text] of stub.options) command = command.option(flags, text);
    withConnectionOptions(command).action(() => {
      ctx.stderr.write(`${NOT_YET[stub.topic]}\n`);
      exit.code = 2;
    });
  }
};
