/** Server options and their defaults, resolved once at start. Only the CLI entry point reads the environment. */
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseMountRule, type MountRule } from '@shoal/core';
import { parseMasterKey } from './sealing.js';

export interface ShoalServerOptions {
  dataDir: string;
  /** Default 7720; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Slots of the local worker (instances run at once); default one per CPU core; 0 runs no local worker. */
  slots?: number;
  /** postgres://... for scale-out; default an SQLite file in the data dir. */
  databaseUrl?: string;
  objectStore?: 'local' | 's3';
  s3Endpoint?: string;
  s3Region?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  s3SessionToken?: string;
  /**
   * 'bwrap' (default): every attempt runs in a bubblewrap sandbox with its instance type's limits; the
   * server refuses to start where that cannot work. 'off': commands run unconfined as the server's own
   * user, an explicit choice the server announces, and refuses while it has users other than the admin
   * unless allowUnsandboxedUsers is set too.
   */
  sandbox?: 'bwrap' | 'off';
  allowUnsandboxedUsers?: boolean;
  /** First of the host uids sandboxes run as (one per sandbox, sandboxUidCount of them). */
  sandboxUidBase?: number;
  sandboxUidCount?: number;
  /** A JSON file of instance types (see parseInstanceTypes) added to the built-in `shoal.local`. */
  instanceTypesFile?: string;
  /**
   * The Docker engine of the local worker, as DOCKER_HOST takes it; default `unix:///var/run/docker.sock`
   * when that socket exists. Without one, tasks in Docker images are refused at submit.
   */
  dockerHost?: string;
  /** `docker run --network` for tasks with network access: bridge (default), host, or a network name. */
  dockerNetwork?: string;
  /**
   * Host directories tasks may mount (Mounts with nas:// or file:// sources): `SOURCE[=HOSTPATH][:rw]`,
   * e.g. `nas://fs-1.example.com:/exports=/mnt/nas`, `file:///srv/reference`. None by default.
   */
  allowMounts?: readonly string[];
  /** pino level: fatal, error, warn, info, debug; default info. */
  logLevel?: string;
  /** Region name reported to commands as BATCH_COMPUTE_REGION; default `local`. */
  region?: string;
  /** How long a worker's claim on an attempt lasts without renewal; default 30 s. */
  leaseMs?: number;
  /** Local worker heartbeat (lease renewal, cancellation check); default 2 s. */
  heartbeatMs?: number;
  /** Fallback poll of the queue when no wake-up arrives; default 1 s. */
  pollMs?: number;
  /** Keep attempt working directories for debugging; default false. */
  keepWorkDirs?: boolean;
  /**
   * Instances one job may ask for, all its tasks together; default 1,000,000. A larger job is refused
   * with QuotaExceeded before anything is written.
   */
  maxInstancesPerJob?: number;
  /**
   * A JSON file of per-user quotas (clusters, jobs not ended, tasks and instances per job), read at
   * start: `{"Default": {...}, "Users": {"alice": {...}}}` (core/quotas.ts). Default: generous limits.
   */
  quotasFile?: string;
  /**
   * Slurm, for clusters whose Provider is `slurm`: the directory of sbatch, scancel and squeue (default:
   * found on PATH; SLURM_CONF from the environment says which Slurm), the partition arrays go to (default
   * Slurm's default), and where array elements work on the Slurm nodes (default `<data-dir>/slurm-work`;
   * Shoal must be installed at the same path on every node).
   */
  /**
   * Whether a task that names no cluster gets one of its own (AutoCluster): `off` (default: it runs on the
   * default cluster, the embedded worker), `local` (agents the server starts) or `slurm` (job arrays);
   * such a cluster has as many workers as the task has instances, up to autoClusterMaxVMs (default 4).
   */
  autoClusters?: 'off' | 'local' | 'slurm';
  autoClusterMaxVMs?: number;
  /** How long an elastic group's demand stays below its target before it shrinks; default 60 s. */
  elasticIdleMs?: number;
  slurmBinDir?: string;
  slurmPartition?: string;
  slurmWorkDir?: string;
  /**
   * The key that seals access-key secrets in the database: 64 hex digits or base64 of 32 bytes (the CLI
   * passes env SHOAL_MASTER_KEY). Default: `<data-dir>/master.key`, created on first start. Servers that
   * share a PostgreSQL database must use the same key.
   */
  masterKey?: string;
}

export interface ResolvedServerOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly slots: number;
  readonly databaseUrl: string | undefined;
  readonly objectStore: 'local' | 's3';
  readonly s3:
    | {
        endpoint: string;
        region: string;
        accessKeyId: string;
        secretAccessKey: string;
        sessionToken?: string;
      }
    | undefined;
  readonly sandbox: 'bwrap' | 'off';
  readonly allowUnsandboxedUsers: boolean;
  readonly sandboxUidBase: number | undefined;
  readonly sandboxUidCount: number | undefined;
  readonly instanceTypesFile: string | undefined;
  readonly dockerHost: string | undefined;
  readonly dockerNetwork: string;
  readonly mountRules: readonly MountRule[];
  readonly logLevel: string;
  readonly region: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly pollMs: number;
  readonly keepWorkDirs: boolean;
  readonly maxInstancesPerJob: number;
  readonly quotasFile: string | undefined;
  readonly autoClusters: 'off' | 'local' | 'slurm';
  readonly autoClusterMaxVMs: number;
  readonly elasticIdleMs: number;
  readonly slurm: { readonly binDir: string; readonly partition: string; readonly workDir: string };
  readonly hostname: string;
  readonly masterKey: Buffer | undefined;
}

function nonNegativeInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0)
    throw new TypeError(`${name} must be a non-negative integer, got ${String(value)}`);
  return v;
}

export function resolveServerOptions(o: ShoalServerOptions): Readonly<ResolvedServerOptions> {
  if (!o.dataDir) throw new TypeError('dataDir is required');
  const objectStore = o.objectStore ?? 'local';
  if (objectStore !== 'local' && objectStore !== 's3')
    throw new TypeError(`objectStore must be local or s3, got ${String(objectStore)}`);
  let s3: ResolvedServerOptions['s3'];
  if (objectStore === 's3') {
    if (!o.s3Endpoint) throw new TypeError('--s3-endpoint is required with --object-store s3');
    if (!o.s3AccessKeyId || !o.s3SecretAccessKey) {
      throw new TypeError('S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    }
    s3 = {
      endpoint: o.s3Endpoint,
      region: o.s3Region ?? 'us-east-1',
      accessKeyId: o.s3AccessKeyId,
      secretAccessKey: o.s3SecretAccessKey,
      ...(o.s3SessionToken ? { sessionToken: o.s3SessionToken } : {}),
    };
  }
  const sandbox = o.sandbox ?? 'bwrap';
  if (sandbox !== 'bwrap' && sandbox !== 'off') {
    const hint = String(sandbox) === 'auto' ? ' (auto was removed: every attempt is sandboxed now)' : '';
    throw new TypeError(`sandbox must be bwrap or off, got ${String(sandbox)}${hint}`);
  }
  const autoClusters = o.autoClusters ?? 'off';
  if (!['off', 'local', 'slurm'].includes(autoClusters))
    throw new TypeError(`autoClusters must be off, local or slurm, got ${String(autoClusters)}`);
  return Object.freeze({
    dataDir: resolve(o.dataDir),
    port: nonNegativeInt('port', o.port, 7720),
    host: o.host ?? '127.0.0.1',
    slots: nonNegativeInt('slots', o.slots, availableParallelism()),
    databaseUrl: o.databaseUrl || undefined,
    objectStore,
    s3,
    sandbox,
    allowUnsandboxedUsers: o.allowUnsandboxedUsers ?? false,
    sandboxUidBase: o.sandboxUidBase,
    sandboxUidCount: o.sandboxUidCount,
    instanceTypesFile: o.instanceTypesFile ? resolve(o.instanceTypesFile) : undefined,
    dockerHost:
      o.dockerHost || (existsSync('/var/run/docker.sock') ? 'unix:///var/run/docker.sock' : undefined),
    dockerNetwork: o.dockerNetwork || 'bridge',
    mountRules: (o.allowMounts ?? []).map(parseMountRule),
    logLevel: o.logLevel ?? 'info',
    region: o.region ?? 'local',
    leaseMs: nonNegativeInt('leaseMs', o.leaseMs, 30_000),
    heartbeatMs: nonNegativeInt('heartbeatMs', o.heartbeatMs, 2_000),
    pollMs: nonNegativeInt('pollMs', o.pollMs, 1_000),
    keepWorkDirs: o.keepWorkDirs ?? false,
    maxInstancesPerJob: nonNegativeInt('maxInstancesPerJob', o.maxInstancesPerJob, 1_000_000),
    quotasFile: o.quotasFile ? resolve(o.quotasFile) : undefined,
    autoClusters,
    elasticIdleMs: nonNegativeInt('elasticIdleMs', o.elasticIdleMs, 60_000),
    autoClusterMaxVMs: nonNegativeInt('autoClusterMaxVMs', o.autoClusterMaxVMs, 4) || 1,
    slurm: {
      binDir: o.slurmBinDir ? resolve(o.slurmBinDir) : '',
      partition: o.slurmPartition ?? '',
      workDir: resolve(o.slurmWorkDir || `${o.dataDir}/slurm-work`),
    },
    hostname: hostname(),
    masterKey: o.masterKey ? parseMasterKey(o.masterKey) : undefined,
  });
}
