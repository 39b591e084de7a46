/**
 * `shoal server`: runs a Shoal server in the foreground until SIGINT/SIGTERM. The server package is
 * loaded only here, so the client commands start without its dependencies.
 */
import type { ShoalServerOptions } from '@shoal/server';
import { dataDirOf } from '../connection.js';
import { CliError, type CommandRegistrar } from '../context.js';

interface ServerFlags {
  port?: string;
  host?: string;
  dataDir?: string;
  slots?: string;
  databaseUrl?: string;
  objectStore?: string;
  s3Endpoint?: string;
  s3Region?: string;
  sandbox?: string;
  allowUnsandboxedUsers?: boolean;
  sandboxUidBase?: string;
  sandboxUidCount?: string;
  instanceTypes?: string;
  dockerHost?: string;
  dockerNetwork?: string;
  allowMount?: string[];
  logLevel?: string;
}

function intOption(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new CliError(`--${name} must be a whole number >= ${min}, got "${text}"`);
  return Number(text);
}

function oneOf<T extends string>(
  name: string,
  text: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text))
    throw new CliError(`--${name} must be one of ${allowed.join(', ')}, got "${text}"`);
  return text as T;
}

/** The address clients should use: a wildcard bind is reached through loopback. */
function displayHost(host: string | undefined): string {
  if (!host || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export const registerServerCommand: CommandRegistrar = (program, ctx, exit) => {
  program
    .command('server')
    .description('run a Shoal server in the foreground (Ctrl-C stops it)')
    .option('--port <port>', 'TCP port, 0 = any free port (default 7720)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--data-dir <dir>', 'state directory (env SHOAL_DATA_DIR, default ./.shoal)')
    .option('--slots <n>', 'instances the built-in worker runs at once (0 = no local worker)')
    .option('--database-url <url>', 'PostgreSQL URL instead of the embedded SQLite database')
    .option(
      '--object-store <kind>',
      'local | s3 (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)',
    )
    .option('--s3-endpoint <url>', 'S3-compatible endpoint')
    .option('--s3-region <region>', 'S3 region')
    .option('--sandbox <mode>', 'bwrap (default: every attempt sandboxed, with limits) | off (unconfined)')
    .option('--allow-unsandboxed-users', 'with --sandbox off: allow users other than the admin anyway')
    .option('--sandbox-uid-base <uid>', 'first host uid sandboxes run as (default 2147400000)')
    .option('--sandbox-uid-count <n>', 'how many sandbox uids, so sandboxes at once (default 64)')
    .option('--instance-types <file>', 'JSON file of instance types offered beside shoal.local')
    .option(
      '--docker-host <url>',
      'Docker engine for Docker images (env DOCKER_HOST; default the local socket)',
    )
    .option(
      '--docker-network <name>',
      'network of containers with network access: bridge (default), host, ...',
    )
    .option(
      '--allow-mount <rule>',
      'a host directory tasks may mount: SOURCE[=HOSTPATH][:rw], e.g. nas://fs-1:/data=/mnt/nas (repeatable)',
      (rule: string, rules: string[] = []) => [...rules, rule],
    )
    .option('--log-level <level>', 'server log level (env SHOAL_LOG_LEVEL)')
    .action(async (flags: ServerFlags) => {
      const options: ShoalServerOptions = {
        dataDir: dataDirOf(flags, ctx).path,
        port: intOption('port', flags.port, 0),
        host: flags.host,
        slots: intOption('slots', flags.slots, 0),
        databaseUrl: flags.databaseUrl ?? ctx.env['SHOAL_DATABASE_URL'],
        objectStore: oneOf('object-store', flags.objectStore, ['local', 's3'] as const),
        s3Endpoint: flags.s3Endpoint,
        s3Region: flags.s3Region ?? ctx.env['AWS_REGION'],
        s3AccessKeyId: ctx.env['AWS_ACCESS_KEY_ID'],
        s3SecretAccessKey: ctx.env['AWS_SECRET_ACCESS_KEY'],
        s3SessionToken: ctx.env['AWS_SESSION_TOKEN'],
        sandbox: oneOf('sandbox', flags.sandbox, ['bwrap', 'off'] as const),
        allowUnsandboxedUsers: flags.allowUnsandboxedUsers ?? false,
        sandboxUidBase: intOption('sandbox-uid-base', flags.sandboxUidBase, 1),
        sandboxUidCount: intOption('sandbox-uid-count', flags.sandboxUidCount, 1),
        instanceTypesFile: flags.instanceTypes,
        dockerHost: flags.dockerHost ?? ctx.env['DOCKER_HOST'],
        dockerNetwork: flags.dockerNetwork,
        allowMounts: flags.allowMount ?? [],
        logLevel: flags.logLevel ?? ctx.env['SHOAL_LOG_LEVEL'],
        // Several servers sharing one PostgreSQL must seal access-key secrets with the same key.
        masterKey: ctx.env['SHOAL_MASTER_KEY'],
      };
      const { startShoal } = await import('@shoal/server');
      const stopped = ctx.untilSignal();
      const running = await startShoal(options);
      ctx.stdout.write(`Shoal listening on http://${displayHost(options.host)}:${running.port}\n`);
      await stopped;
      await running.close();
      exit.code = 0;
    });
};
