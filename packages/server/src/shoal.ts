/**
 * The composition root of a Shoal server process: store, object store, API, scheduler and local worker,
 * wired from resolved options. `startShoal` returns once the API listens and the local worker runs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { BlobStore, ClaimLimits, InstanceTypeSpec, QuotaConfig, Store, WireSandbox } from '@shoal/core';
import { checkPortFree } from './port-check.js';
import {
  buildCatalog,
  AUTO_CLUSTER_PENDING,
  DEFAULT_CLUSTER_ID,
  DEFAULT_GROUP_NAME,
  defaultQuotas,
  LOCAL_INSTANCE_TYPE,
  parseInstanceTypes,
  parseQuotaConfig,
  taskDemand,
  slotShare,
  systemClock,
} from '@shoal/core';
import { openStore } from '@shoal/store';
import { createBlobStore } from '@shoal/blobs';
import { DEFAULT_SANDBOX_UID_BASE, FilesystemSync, Runner, WorkerLoop } from '@shoal/agent';
import { buildApi } from './api/app.js';
import { UNSANDBOXED_WARNING, type ExecutionInfo } from './execution.js';
import { KeyRing } from './api/auth.js';
import {
  ensureAdminCredentials,
  publishEndpoint,
  sealPlaintextSecrets,
  type Credentials,
} from './credentials.js';
import { loadOrCreateMasterKey, SecretSealer } from './sealing.js';
import { AccountService } from './services/account-service.js';
import { ObjectAccess } from './services/object-access.js';
import { LocalAttemptLogs, LogFiles } from './logs.js';
import { resolveServerOptions, type ResolvedServerOptions, type ShoalServerOptions } from './options.js';
import { WorkerGateway } from './scheduler/gateway.js';
import { inProcessLink } from './scheduler/in-process-link.js';
import { AutoClusters } from './provisioner/auto-clusters.js';
import { ElasticGroups } from './provisioner/elastic-groups.js';
import { QuotaService } from './services/quota-service.js';
import { PendingReasons } from './services/pending-reasons.js';
import { LocalProvider } from './provisioner/local-provider.js';
import { ServiceTokens } from './provisioner/service-tokens.js';
import { SlurmProvider } from './provisioner/slurm-provider.js';

/** Sandbox uids of Slurm array elements: a range of their own, far below the server's and its agents'. */
const SLURM_UID_OFFSET = 1_000_000;
const SLURM_UID_COUNT = 4096;
/** Attempts queued in Slurm per group beyond its running cap: a task of up to this many is one array. */
const SLURM_BACKLOG = 1000;
import { ClusterService } from './services/cluster-service.js';
import { WorkerService } from './services/worker-service.js';
import { WorkerTokens } from './api/worker-auth.js';
import { Maintenance } from './scheduler/maintenance.js';
import { Purger } from './scheduler/purger.js';
import { ImageService } from './services/image-service.js';
import { JobService } from './services/job-service.js';

export interface RunningShoal {
  readonly url: string;
  readonly port: number;
  readonly credentials: Credentials;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly workerId: string;
  close(): Promise<void>;
}

/** The catalog: `shoal.local` (one slot's share of this machine) and the operator's file, if any. */
function instanceTypes(file: string | undefined, slots: number): InstanceTypeSpec[] {
  const local = slotShare(availableParallelism(), totalmem(), slots || availableParallelism());
  if (!file) return [local];
  return buildCatalog(local, parseInstanceTypes(readFileSync(file, 'utf8'), file));
}

/** The admin's quotas (--quotas) over the defaults; --max-instances-per-job is the default InstancesPerJob. */
function quotaConfig(options: ResolvedServerOptions): QuotaConfig {
  const defaults = defaultQuotas(options.maxInstancesPerJob);
  if (!options.quotasFile) return { defaults, users: {} };
  return parseQuotaConfig(readFileSync(options.quotasFile, 'utf8'), options.quotasFile, defaults);
}

/** Unsandboxed, any user's command can read everyone's data: only the admin may exist, unless allowed. */
async function refuseUnsandboxedUsers(store: Store, allowed: boolean): Promise<void> {
  if (allowed) return;
  const users = await store.listUsers({ limit: 2 });
  if (users.items.length > 1) {
    await store.close();
    throw new Error(
      'refusing to run with --sandbox off: this server has users other than the admin, and unsandboxed ' +
        "commands can read every user's data and the server's keys. Run with the sandbox, or add " +
        '--allow-unsandboxed-users',
    );
  }
}

export async function startShoal(input: ShoalServerOptions): Promise<RunningShoal> {
  const options = resolveServerOptions(input);
  await checkPortFree(options.port, options.host, options.dataDir);
  const clock = systemClock;
  mkdirSync(options.dataDir, { recursive: true });
  const logger = pino({ level: options.logLevel, base: { service: 'shoal' } }, pino.destination(2));
  const store = await openStore(
    options.databaseUrl
      ? { databaseUrl: options.databaseUrl }
      : { sqlitePath: join(options.dataDir, 'shoal.db') },
  );
  const blobs: BlobStore =
    options.objectStore === 's3'
      ? createBlobStore({ kind: 's3', ...options.s3! })
      : createBlobStore({ kind: 'local', root: join(options.dataDir, 'objects') });
  const sealer = new SecretSealer(options.masterKey ?? loadOrCreateMasterKey(options.dataDir));
  const resealed = await sealPlaintextSecrets(store, sealer, clock);
  if (resealed)
    logger.info({ keys: resealed }, 'sealed access-key secrets stored in plaintext by an older version');
  let credentials = await ensureAdminCredentials(options.dataDir, store, sealer, clock);
  const catalog = instanceTypes(options.instanceTypesFile, options.slots);
  const unsandboxed = options.sandbox === 'off';
  if (unsandboxed) {
    logger.warn(`SANDBOX OFF: ${UNSANDBOXED_WARNING}`);
    await refuseUnsandboxedUsers(store, options.allowUnsandboxedUsers);
  }
  const logs = new LogFiles(join(options.dataDir, 'logs'));
  const quotas = new QuotaService(store, quotaConfig(options));
  await quotas.readNames();
  const demandOf = taskDemand(catalog);
  const slot = catalog.find((t) => t.name === LOCAL_INSTANCE_TYPE)!;
  // What the embedded worker's machine holds; more if --slots asks for more than one share per core.
  const embeddedMachine = {
    cpuMillis: Math.max(availableParallelism() * 1000, Math.round(options.slots * slot.cpuCores * 1000)),
    memoryBytes: Math.max(totalmem(), options.slots * slot.memoryBytes),
  };
  const claimLimits: ClaimLimits = {
    runningPerOwner: (owner) => quotas.runningPerOwner(owner),
    cpuPerOwner: (owner) => quotas.cpuPerOwner(owner),
    demandOf,
  };
  const gateway = new WorkerGateway(store, clock, {
    limits: claimLimits,
    leaseMs: options.leaseMs,
    region: options.region,
    ossHost: `${options.host}:${options.port}`,
    catalog,
  });
  const objects = new ObjectAccess(store, clock);
  let dockerWorkers = false; // the local worker's engine answered (remote workers come later)
  const images = new ImageService(store, clock, objects, () => dockerWorkers);
  const workerTokens = new WorkerTokens(store);
  const clusters = new ClusterService(store, clock, images, workerTokens, {
    leaseMs: options.leaseMs,
    catalog,
    embeddedWorkers: options.slots > 0 ? 1 : 0,
    quotas,
    notifyWork: () => gateway.notifyWork(),
  });
  await clusters.ensureDefaultCluster();
  const purger = new Purger(store, (id) => logs.deleteJob(id), logger.child({ component: 'purger' }), 5_000);
  const jobs = new JobService(
    store,
    gateway,
    () => purger.kick(),
    clock,
    objects,
    catalog,
    images,
    clusters,
    options.mountRules,
    quotas,
    options.autoClusters === 'off' ? DEFAULT_CLUSTER_ID : AUTO_CLUSTER_PENDING,
    options.slots > 0 ? embeddedMachine : undefined,
  );
  // Tasks left waiting for an AutoCluster by a run with AutoClusters on run on the default cluster now.
  if (options.autoClusters === 'off') await store.moveClusterTasks(AUTO_CLUSTER_PENDING, DEFAULT_CLUSTER_ID);
  const keys = new KeyRing(store, sealer);
  const accounts = new AccountService(
    store,
    keys,
    sealer,
    clock,
    unsandboxed && !options.allowUnsandboxedUsers
      ? "the server runs with --sandbox off, where any user could read every other user's data; " +
          'restart it with the sandbox, or add --allow-unsandboxed-users'
      : '',
  );

  // The local worker's runner is set up, and its sandbox proven, before the server takes any request.
  // The worker id is stable per host and data dir, so a restarted server recognises (and re-queues) its
  // own cut-off attempts.
  const workerId = `i-${createHash('sha1').update(`${options.hostname}\u0000${options.dataDir}`).digest('hex').slice(0, 20)}`;
  let runner: Runner | undefined;
  let sandbox: Omit<WireSandbox, 'Docker'> = unsandboxed
    ? { Mode: 'off', Limits: false, Warning: UNSANDBOXED_WARNING }
    : { Mode: 'bwrap', Limits: false, Warning: 'no local worker: limits are enforced by the workers' };
  // Makes the local worker's uploads durable a filesystem at a time (undefined without the native helper).
  const filesystems = options.slots > 0 ? FilesystemSync.create() : undefined;
  if (options.slots > 0) {
    runner = new Runner({
      workRoot: join(options.dataDir, 'work'),
      // Its uploads are flushed as a group before the attempts are reported (WorkerLoop), not one by one.
      blobs:
        blobs.grouped?.(filesystems ? { syncFilesystems: (dirs) => filesystems.sync(dirs) } : {}) ?? blobs,
      workerId,
      sandbox: options.sandbox,
      keepWorkDirs: options.keepWorkDirs,
      ...(options.sandboxUidBase !== undefined ? { sandboxUidBase: options.sandboxUidBase } : {}),
      ...(options.sandboxUidCount !== undefined ? { sandboxUidCount: options.sandboxUidCount } : {}),
      ...(options.dockerHost ? { docker: { host: options.dockerHost, network: options.dockerNetwork } } : {}),
      imageCacheDir: join(options.dataDir, 'images'),
      allowedMounts: options.mountRules,
    });
    if (options.dockerHost && !unsandboxed) {
      const docker = await runner.dockerAvailable();
      dockerWorkers = docker.ok;
      if (docker.ok) logger.info({ docker: docker.reason }, 'Docker images run on this worker');
      else logger.warn(`tasks in Docker images are refused: ${docker.reason}`);
    }
    if (!unsandboxed) {
      const status = await runner.prepare();
      if (!status.ok) {
        await runner.close();
        await store.close();
        throw new Error(
          `the sandbox does not work on this machine: ${status.reason}. Fix that, or start with --sandbox off ` +
            "(commands then run unconfined as the server's user)",
        );
      }
      if (!status.limits) logger.warn(`instance-type limits are not enforced: ${status.limitsProblem}`);
      sandbox = {
        Mode: 'bwrap',
        Limits: status.limits,
        Warning: status.limits ? '' : `limits are not enforced: ${status.limitsProblem}`,
      };
      logger.info({ sandbox: status.reason }, 'sandbox ready');
    }
  }
  const execution: ExecutionInfo = { catalog, sandbox: { ...sandbox, Docker: dockerWorkers } };
  const app = buildApi(
    {
      jobs,
      accounts,
      images,
      clusters,
      quotas,
      pending: new PendingReasons(store, clock, claimLimits, options.leaseMs),
      workerTokens,
      workers: new WorkerService(store, gateway, blobs, logs),
      objects,
      store,
      blobs,
      logs,
      clock,
      execution,
    },
    { hostId: options.hostname, keys, logger },
  );

  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  credentials = publishEndpoint(options.dataDir, credentials, url);

  let worker: WorkerLoop | undefined;
  if (runner) {
    const log = logger.child({ component: 'local-worker' });
    worker = new WorkerLoop(inProcessLink(gateway), runner, new LocalAttemptLogs(logs), clock, log, {
      workerId,
      clusterId: DEFAULT_CLUSTER_ID,
      groupName: DEFAULT_GROUP_NAME,
      hostname: options.hostname,
      slots: options.slots,
      // A slot always fits one shoal.local attempt; larger instance types are placed by what they take.
      ...embeddedMachine,
      heartbeatMs: options.heartbeatMs,
      pollMs: options.pollMs,
    });
    await worker.start();
  }
  const tokens = new ServiceTokens(store);
  const uidBase = runner?.options.sandboxUidBase ?? options.sandboxUidBase ?? DEFAULT_SANDBOX_UID_BASE;
  const provider = new LocalProvider(
    store,
    logger.child({ component: 'local-provider' }),
    { url, dataDir: options.dataDir, sandbox: options.sandbox, sandboxUidBase: uidBase, intervalMs: 2_000 },
    tokens,
  );
  const slurm = new SlurmProvider(store, gateway, tokens, logger.child({ component: 'slurm-provider' }), {
    ...options.slurm,
    url,
    dataDir: options.dataDir,
    sandbox: options.sandbox,
    nodeWorkDir: options.slurm.workDir,
    // Below the server's uids and its local agents' blocks (64 each); above them all when below would
    // reach the uids of real users.
    sandboxUidBase:
      uidBase - SLURM_UID_OFFSET >= 100_000 ? uidBase - SLURM_UID_OFFSET : uidBase + SLURM_UID_OFFSET,
    sandboxUidCount: SLURM_UID_COUNT,
    catalog,
    intervalMs: 1_000,
    backlog: SLURM_BACKLOG,
  });
  const provisioners = () => {
    provider.kick();
    slurm.kick();
  };
  clusters.onChange(provisioners);
  provider.start();
  slurm.start();
  const autoClusters =
    options.autoClusters === 'off'
      ? undefined
      : new AutoClusters(
          store,
          clock,
          logger.child({ component: 'auto-clusters' }),
          { provider: options.autoClusters, maxVMs: options.autoClusterMaxVMs, intervalMs: 1_000 },
          provisioners,
          (owner) => quotas.clusterRoom(owner),
        );
  autoClusters?.start();
  const elastic = new ElasticGroups(
    store,
    logger.child({ component: 'elastic-groups' }),
    { intervalMs: 1_000, idleMs: options.elasticIdleMs },
    provisioners,
  );
  elastic.start();
  gateway.signals.on('work', () => elastic.kick());
  // A task that became runnable may want a cluster of its own: look at once rather than within a second.
  if (autoClusters) gateway.signals.on('work', () => autoClusters.kick());
  const maintenance = new Maintenance(
    store,
    gateway,
    clock,
    (id) => jobs.release(id),
    logger.child({ component: 'maintenance' }),
    {
      intervalMs: 1000,
    },
  );
  maintenance.start();
  purger.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    credentials,
    store,
    blobs,
    workerId,
    close() {
      closing ??= (async () => {
        await autoClusters?.stop();
        await elastic.stop();
        await provider.stop();
        await slurm.stop();
        await app.close();
        await maintenance.stop();
        await purger.stop();
        await worker?.stop();
        await runner?.close();
        filesystems?.close();
        await store.close();
        await blobs.close?.();
        logger.flush();
      })();
      return closing;
    },
  };
}
