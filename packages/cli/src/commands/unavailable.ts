/**
 * bcs commands Shoal does not carry out yet. They exist with their options and answer clearly, exit 2,
 * instead of "unknown command".
 */
import type { Command } from 'commander';
import { withConnectionOptions } from '../connection.js';
import type { CommandRegistrar } from '../context.js';

export const NOT_YET = {
  recreate:
    'recreating a cluster instance is not available in this Shoal version yet: delete it (dci) and start its agent again',
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
    name: 'recreate_cluster_instance',
    aliases: ['rci'],
    summary: 'recreate a cluster VM',
    args: ['<clusterId>', '<group>', '<instanceId>'],
    topic: 'recreate',
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
