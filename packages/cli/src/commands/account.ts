/**
 * `shoal login | logout | config (me, set) | info (about)`: the saved connection in config.json
 * (SHOAL_CONFIG_DIR or ~/.shoal, mode 0600) and who the server says we are.
 */
import { API_VERSION, ShoalApiError, ShoalClient, type WireWhoAmI } from '@shoal/sdk';
import { clearLogin, configFile, loadConfig, saveConfig, type CliConfig } from '../config.js';
import { openSession, withConnectionOptions, type ConnectionFlags } from '../connection.js';
import { CliError, type CommandRegistrar } from '../context.js';
import type { WireSandbox } from '@shoal/core';
import { renderFields } from '../format/table.js';

export const CLI_VERSION = '0.1.0';

/** Who the key belongs to; undefined when the server has no /whoami yet (older Shoal). */
async function whoamiOf(client: ShoalClient): Promise<WireWhoAmI | undefined> {
  try {
    return await client.whoami();
  } catch (err) {
    if (err instanceof ShoalApiError && err.code === 'InvalidAction.NotFound') return undefined;
    throw err;
  }
}

function mask(secret: string | undefined): string {
  if (!secret) return '-';
  return `${'*'.repeat(Math.max(0, secret.length - 4))}${secret.slice(-4)}`;
}

interface ConfigFlags {
  osspath?: string;
  endpoint?: string;
  json?: boolean;
}

export const registerAccountCommands: CommandRegistrar = (program, ctx, exit) => {
  program
    .command('login')
    .description('check the keys against a server and save them in ~/.shoal/config.json')
    .argument('<endpoint>', 'server URL, e.g. http://127.0.0.1:7720')
    .argument('[accessKeyId]', 'access key id (env SHOAL_ACCESS_KEY_ID)')
    .argument('[accessKeySecret]', 'access key secret (env SHOAL_ACCESS_KEY_SECRET)')
    .action(async (endpoint: string, id: string | undefined, secret: string | undefined) => {
      const accessKeyId = id ?? ctx.env['SHOAL_ACCESS_KEY_ID'];
      const accessKeySecret = secret ?? ctx.env['SHOAL_ACCESS_KEY_SECRET'];
      if (!accessKeyId || !accessKeySecret)
        throw new CliError('login needs an access key id and secret: shoal login <endpoint> <id> <secret>');
      let client: ShoalClient;
      try {
        client = new ShoalClient({ endpoint, accessKeyId, accessKeySecret, retries: 1 });
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err));
      }
      // Like bcs: one cheap signed call proves endpoint and keys before anything is saved.
      await client.listJobs({ maxItemCount: 1 });
      const me = await whoamiOf(client);
      const file = await saveConfig(ctx, {
        ...(await loadConfig(ctx)),
        Endpoint: client.options.endpoint,
        AccessKeyId: accessKeyId,
        AccessKeySecret: accessKeySecret,
      });
      ctx.stdout.write(
        `Logged in to ${client.options.endpoint}${me ? ` as ${me.Name}` : ''} (saved in ${file})\n`,
      );
      exit.code = 0;
    });

  program
    .command('logout')
    .description('forget the saved endpoint and keys')
    .action(async () => {
      const removed = await clearLogin(ctx);
      ctx.stdout.write(removed ? 'Logged out.\n' : 'Not logged in.\n');
      exit.code = 0;
    });

  program
    .command('config')
    .aliases(['me', 'set'])
    .description('show the saved settings, or change them')
    .option('-o, --osspath <oss://bucket/prefix/>', 'default --osspath of sub (packages and logs)')
    .option('--endpoint <url>', 'server URL')
    .option('--json', 'print JSON (secret masked)')
    .action(async (flags: ConfigFlags) => {
      const config = await loadConfig(ctx);
      const changes: CliConfig = {};
      if (flags.osspath !== undefined) {
        if (!/^(oss|s3):\/\/[^/]+\/(.*\/)?$/.test(flags.osspath))
          throw new CliError(
            `--osspath must be a folder URI like oss://bucket/prefix/, got "${flags.osspath}"`,
          );
        changes.OssPath = flags.osspath;
      }
      if (flags.endpoint !== undefined) changes.Endpoint = flags.endpoint;
      if (Object.keys(changes).length > 0) {
        await saveConfig(ctx, { ...config, ...changes });
        ctx.stdout.write('Saved.\n');
        return;
      }
      const shown = {
        ...config,
        AccessKeySecret: config.AccessKeySecret ? mask(config.AccessKeySecret) : undefined,
      };
      if (flags.json) {
        ctx.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
        return;
      }
      ctx.stdout.write(
        renderFields([
          ['File', configFile(ctx)],
          ['Endpoint', config.Endpoint ?? '-'],
          ['AccessKeyId', config.AccessKeyId ?? '-'],
          ['AccessKeySecret', mask(config.AccessKeySecret)],
          ['OssPath', config.OssPath ?? '-'],
        ]),
      );
    });

  const info = program
    .command('info')
    .alias('about')
    .description('the server in use, who you are on it, and versions')
    .option('--json', 'print JSON');
  withConnectionOptions(info).action(async (flags: ConnectionFlags & { json?: boolean }) => {
    const { client, connection } = await openSession(flags, ctx);
    const me = await whoamiOf(client);
    const sandbox = (await client.getAvailable().catch(() => undefined))?.Sandbox;
    const facts = {
      Endpoint: connection.endpoint,
      User: me ? me.Name : '(unknown: the server has no /whoami)',
      OwnerId: me?.OwnerId,
      Admin: me?.Admin,
      AccessKeyId: connection.accessKeyId,
      Server: `Shoal, BatchCompute API ${API_VERSION}`,
      Sandbox: sandbox,
      Cli: CLI_VERSION,
    };
    if (flags.json) {
      ctx.stdout.write(`${JSON.stringify(facts, null, 2)}\n`);
      return;
    }
    ctx.stdout.write(
      renderFields([
        ['Endpoint', facts.Endpoint],
        ['User', me ? `${me.Name} (owner ${me.OwnerId}${me.Admin ? ', admin' : ''})` : facts.User],
        ['AccessKeyId', facts.AccessKeyId],
        ['Server', facts.Server],
        ['Sandbox', sandboxText(sandbox)],
        ['CLI', `shoal ${CLI_VERSION}`],
      ]),
    );
  });
};

/** How the server confines commands, with what an operator should know. */
function sandboxText(sandbox: WireSandbox | undefined): string {
  if (!sandbox) return '(not reported by this server)';
  if (sandbox.Mode === 'off') return `OFF: ${sandbox.Warning}`;
  const limits = sandbox.Limits ? 'instance-type limits enforced' : 'NO limits';
  return sandbox.Warning ? `bubblewrap, ${limits} (${sandbox.Warning})` : `bubblewrap, ${limits}`;
}
