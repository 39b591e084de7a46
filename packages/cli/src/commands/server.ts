/**
 * `shoal server`: runs a Shoal server in the foreground until SIGINT/SIGTERM. The server package is
 * loaded only here, so the client commands start without its dependencies.
 */
import type { ShoalServerOptions } from '@shoal/server';
import { dataDirOf } from '../connection.js';
import type { CommandRegistrar } from '../context.js';
import { checked, oneOf, wholeNumber } from '../option-values.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

interface ServerFlags {
  port?: number;
  host?: string;
  dataDir?: string;
  slots?: number;
  databaseUrl?: string;
  objectStore?: 'local' | 's3';
  s3Endpoint?: string;
  s3Region?: string;
  sandbox?: 'bwrap' | 'off';
  allowUnsandboxedUsers?: boolean;
  sandboxUidBase?: number;
  sandboxUidCount?: number;
  instanceTypes?: string;
  dockerHost?: string;
  dockerNetwork?: string;
  allowMount?: string[];
  quotas?: string;
  autoClusters?: 'off' | 'local' | 'slurm';
  autoClusterMaxVms?: number;
  elasticIdleSeconds?: number;
  slurmBinDir?: string;
  slurmPartition?: string;
  slurmWorkDir?: string;
  logLevel?: string;
  maxInstancesPerJob?: number;
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
    .option(
      '--port <port>',
      'TCP port, 0 = any free port (default 7720)',
      checked((t) => wholeNumber(t, 0, 65535)),
    )
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--data-dir <dir>', 'state directory (env SHOAL_DATA_DIR, default ./.shoal)')
    .option(
      '--slots <n>',
      'instances the built-in worker runs at once (0 = no local worker)',
      checked((t) => wholeNumber(t, 0, 1024)),
    )
    .option('--database-url <url>', 'PostgreSQL URL instead of the embedded SQLite database')
    .option(
      '--object-store <kind>',
      'local | s3 (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)',
      checked((t) => oneOf(t, ['local', 's3'] as const)),
    )
    .option('--s3-endpoint <url>', 'S3-compatible endpoint')
    .option('--s3-region <region>', 'S3 region')
    .option(
      '--sandbox <mode>',
      'bwrap (default: every attempt sandboxed, with limits) | off (unconfined)',
      checked((t) => oneOf(t, ['bwrap', 'off'] as const)),
    )
    .option('--allow-unsandboxed-users', 'with --sandbox off: allow users other than the admin anyway')
    .option(
      '--sandbox-uid-base <uid>',
      'first host uid sandboxes run as (default 2147400000)',
      checked((t) => wholeNumber(t, 1, 4294967294)),
    )
    .option(
      '--sandbox-uid-count <n>',
      'how many sandbox uids, so sandboxes at once (default 64)',
      checked((t) => wholeNumber(t, 1, 65536)),
    )
    .option('--instance-types <file>', 'JSON file of instance types offered beside shoal.local')
    .option(
      '--max-instances-per-job <n>',
      'instances one job may ask for, all tasks together (default 1000000)',
      checked((t) => wholeNumber(t, 1)),
    )
    .option('--quotas <file>', 'JSON file of per-user quotas: {"Default": {...}, "Users": {"alice": {...}}}')
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
    .option(
      '--auto-clusters <provider>',
      'give each task that names no cluster one of its own: off (default), local, slurm',
      checked((t) => oneOf(t, ['off', 'local', 'slurm'] as const)),
    )
    .option(
      '--auto-cluster-max-vms <n>',
      'workers of one AutoCluster at most (default 4)',
      checked((t) => wholeNumber(t, 1, 1000)),
    )
    .option(
      '--elastic-idle-seconds <n>',
      'how long an elastic group stays above its demand before it shrinks (default 60)',
      checked((t) => wholeNumber(t, 0, 86400)),
    )
    .option('--slurm-bin-dir <dir>', 'where sbatch, scancel and squeue are (default: on PATH)')
    .option('--slurm-partition <name>', "partition of slurm clusters' arrays (default: Slurm's default)")
    .option(
      '--slurm-work-dir <dir>',
      'where array elements work on Slurm nodes (default <data-dir>/slurm-work)',
    )
    .option(
      '--log-level <level>',
      `server log level: ${LOG_LEVELS.join(', ')} (env SHOAL_LOG_LEVEL)`,
      checked((t) => oneOf(t, LOG_LEVELS)),
    )
    .action(async (flags: ServerFlags) => {
      const options: ShoalServerOptions = {
        dataDir: dataDirOf(flags, ctx).path,
        port: flags.port,
        host: flags.host,
        slots: flags.slots,
        databaseUrl: flags.databaseUrl ?? ctx.env['SHOAL_DATABASE_URL'],
        objectStore: flags.objectStore,
        s3Endpoint: flags.s3Endpoint,
        s3Region: flags.s3Region ?? ctx.env['AWS_REGION'],
        s3AccessKeyId: ctx.env['AWS_ACCESS_KEY_ID'],
        s3SecretAccessKey: ctx.env['AWS_SECRET_ACCESS_KEY'],
        s3SessionToken: ctx.env['AWS_SESSION_TOKEN'],
        sandbox: flags.sandbox,
        allowUnsandboxedUsers: flags.allowUnsandboxedUsers ?? false,
        sandboxUidBase: flags.sandboxUidBase,
        sandboxUidCount: flags.sandboxUidCount,
        instanceTypesFile: flags.instanceTypes,
        maxInstancesPerJob: flags.maxInstancesPerJob,
        quotasFile: flags.quotas,
        dockerHost: flags.dockerHost ?? ctx.env['DOCKER_HOST'],
        dockerNetwork: flags.dockerNetwork,
        allowMounts: flags.allowMount ?? [],
        autoClusters: flags.autoClusters,
        autoClusterMaxVMs: flags.autoClusterMaxVms,
        ...(flags.elasticIdleSeconds !== undefined ? { elasticIdleMs: flags.elasticIdleSeconds * 1000 } : {}),
        slurmBinDir: flags.slurmBinDir,
        slurmPartition: flags.slurmPartition,
        slurmWorkDir: flags.slurmWorkDir,
        logLevel: flags.logLevel ?? ctx.env['SHOAL_LOG_LEVEL'],
        // Several servers sharing one PostgreSQL must seal access-key secrets with the same key.
        masterKey: ctx.env['SHOAL_MASTER_KEY'],
      };
      const { startShoal } = await import('@shoal/server');
      const stopped = ctx.untilSignal();
      const running = await startShoal(options);
      const base = `http://${displayHost(options.host)}:${running.port}`;
      ctx.stdout.write(`Shoal listening on ${base}\n`);
      // A ready sign-in link for the admin, on the terminal only (never in the log): the key rides in the
      // fragment, which the browser keeps to itself, and the console drops it from the address bar.
      const { AccessKeyId, AccessKeySecret } = running.credentials;
      ctx.stdout.write(
        `Console: ${base}/console/#/signin?key=${encodeURIComponent(AccessKeyId)}&secret=${encodeURIComponent(AccessKeySecret)}\n`,
      );
      await stopped;
      await running.close();
      exit.code = 0;
    });
};
