/**
 * Clusters (spec §4 rows 13–21): creating, listing, changing and deleting a user's clusters, the
 * default cluster every server has, and checking the cluster each task of a new job names. Another
 * owner's cluster is reported as not found, so ids do not leak; the default cluster belongs to the
 * service: every user sees it and runs on it, only the admin changes it.
 */
import type {
  ClusterRecord,
  ClusterSpec,
  Clock,
  InstanceTypeSpec,
  JobSpec,
  Page,
  Store,
  WorkerRecord,
} from '@shoal/core';
import {
  applyClusterChange,
  DEFAULT_CLUSTER_ID,
  DEFAULT_GROUP_NAME,
  DEFAULT_IMAGE_ID,
  formatTime,
  groupInstanceType,
  invalidJob,
  invalidParameter,
  LOCAL_INSTANCE_TYPE,
  notFound,
  readClusterChange,
  readClusterDescription,
  SERVICE_OWNER_ID,
  ShoalError,
  stateConflict,
} from '@shoal/core';
import { newClusterId } from '../ids.js';
import type { QuotaService } from './quota-service.js';
import { mintWorkerToken, type WorkerTokens } from '../api/worker-auth.js';
import {
  presentCluster,
  presentWorker,
  type WireCluster,
  type WireClusterInstance,
} from './cluster-present.js';
import type { Caller } from './caller.js';
import type { ImageService } from './image-service.js';

export interface ClusterServiceOptions {
  /** A worker whose last heartbeat is older than this is shown Stopped and not counted as running. */
  readonly leaseMs: number;
  readonly catalog: readonly InstanceTypeSpec[];
  /** Workers of the default cluster this server runs itself (its embedded worker: 0 or 1). */
  readonly embeddedWorkers: number;
  readonly quotas: QuotaService;
  /** Instances were re-queued: workers should look for work. */
  readonly notifyWork: () => void;
}

export class ClusterService {
  private readonly listeners: (() => void)[] = [];

  /** Called after a cluster was created, changed or deleted (the providers reconcile). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly images: ImageService,
    private readonly tokens: WorkerTokens,
    private readonly options: ClusterServiceOptions,
  ) {}

  /** Writes the default cluster if this store has none yet (first start); an existing one is kept. */
  async ensureDefaultCluster(): Promise<void> {
    if (await this.store.getCluster(DEFAULT_CLUSTER_ID)) return;
    await this.store.putCluster({
      id: DEFAULT_CLUSTER_ID,
      ownerId: SERVICE_OWNER_ID,
      state: 'Active',
      createdAtUs: this.clock.nowUs(),
      name: 'local',
      description: "the server's embedded worker: where tasks run that name no cluster of their own",
      imageId: DEFAULT_IMAGE_ID,
      instanceType: LOCAL_INSTANCE_TYPE,
      provider: 'local',
      groups: {
        [DEFAULT_GROUP_NAME]: {
          desiredVMCount: this.options.embeddedWorkers,
          instanceType: LOCAL_INSTANCE_TYPE,
          resourceType: 'OnDemand',
          spotStrategy: '',
          spotPriceLimit: 0,
          hostnamePrefix: '',
        },
      },
      userData: {},
      envVars: {},
      inputMapping: {},
      configs: null,
      notification: null,
      bootstrap: '',
    });
  }

  async create(caller: Caller, body: unknown, idempotentToken: string | null): Promise<string> {
    const spec = readClusterDescription(body);
    await this.checkSpec(caller, spec);
    await this.options.quotas.checkNewCluster(caller);
    const record: ClusterRecord = {
      ...spec,
      id: newClusterId(),
      ownerId: caller.ownerId,
      state: 'Active',
      createdAtUs: this.clock.nowUs(),
    };
    const id = (await this.store.createCluster(record, idempotentToken)).id;
    this.changed();
    return id;
  }

  async get(caller: Caller, id: string): Promise<WireCluster> {
    const cluster = await this.visible(caller, id);
    return presentCluster(cluster, await this.allWorkers(id), this.liveSinceUs());
  }

  /** The caller's clusters and the service's (every owner's for the admin), by id. */
  async list(caller: Caller, query: { marker?: string; limit: number }): Promise<Page<WireCluster>> {
    const page = await this.store.listClusters({
      ...(caller.admin ? {} : { ownerIds: [caller.ownerId, SERVICE_OWNER_ID] }),
      ...(query.marker ? { marker: query.marker } : {}),
      limit: query.limit,
    });
    const since = this.liveSinceUs();
    const items: WireCluster[] = [];
    for (const c of page.items) items.push(presentCluster(c, await this.allWorkers(c.id), since));
    return { items, nextMarker: page.nextMarker };
  }

  async modify(caller: Caller, id: string, body: unknown): Promise<void> {
    const cluster = await this.changeable(caller, id, 'modify');
    const change = readClusterChange(body);
    const next = applyClusterChange(cluster, change);
    if (id === DEFAULT_CLUSTER_ID && change.groups)
      throw invalidParameter(
        'Groups',
        change.groups,
        "cannot change on the default cluster: its worker is the server's own (sized by shoal server --slots)",
      );
    await this.checkSpec(caller, next);
    await this.store.putCluster({ ...cluster, ...next });
    this.changed();
  }

  async delete(caller: Caller, id: string): Promise<void> {
    await this.changeable(caller, id, 'delete');
    if (id === DEFAULT_CLUSTER_ID)
      throw stateConflict('cluster', id, 'Active', 'delete', 'It is the default cluster of this server.');
    const result = await this.store.deleteCluster(id);
    if (result.busyJobId)
      throw stateConflict(
        'cluster',
        id,
        'Active',
        'delete',
        `Job ${result.busyJobId} has tasks on it that have not ended; stop or delete that job first.`,
      );
    if (!result.deleted) throw notFound('cluster', id);
    this.changed();
  }

  async listInstances(
    caller: Caller,
    id: string,
    group: string,
    query: { marker?: string; limit: number },
  ): Promise<Page<WireClusterInstance>> {
    const cluster = await this.visible(caller, id);
    this.groupOf(cluster, group);
    const page = await this.store.listWorkers({
      clusterId: id,
      groupName: group,
      ...(query.marker ? { marker: query.marker } : {}),
      limit: query.limit,
    });
    const since = this.liveSinceUs();
    const running = await this.store.runningOnWorkers(page.items.map((w) => w.id));
    return {
      items: page.items.map((w) => presentWorker(w, since, running.get(w.id) ?? 0)),
      nextMarker: page.nextMarker,
    };
  }

  async getInstance(
    caller: Caller,
    id: string,
    group: string,
    workerId: string,
  ): Promise<WireClusterInstance> {
    const cluster = await this.visible(caller, id);
    const worker = await this.workerOf(cluster, group, workerId);
    const running = await this.store.runningOnWorkers([worker.id]);
    return presentWorker(worker, this.liveSinceUs(), running.get(worker.id) ?? 0);
  }

  /**
   * A worker asked to leave finishes what it runs and takes nothing new (Deleting); one that no longer
   * heartbeats is forgotten at once.
   */
  async deleteInstance(caller: Caller, id: string, group: string, workerId: string): Promise<void> {
    const cluster = await this.changeable(caller, id, 'delete an instance of');
    const worker = await this.workerOf(cluster, group, workerId);
    if (worker.heartbeatAtUs < this.liveSinceUs()) await this.store.deleteWorker(worker.id);
    else await this.store.setWorkerState(worker.id, 'Deleting');
    // A Spot worker is taken away, not drained: what it runs is cut off now and runs again elsewhere.
    if (cluster.groups[group]?.resourceType === 'Spot')
      await this.cutOff(worker.id, `Spot worker ${worker.id} was reclaimed`);
  }

  /**
   * Recreates a worker (spec row 21): what it runs is cut off and runs again, without using a retry;
   * the worker stays and takes work again with nothing of before (the attempts' directories and
   * sandboxes are per attempt).
   */
  async recreateInstance(caller: Caller, id: string, group: string, workerId: string): Promise<void> {
    const cluster = await this.changeable(caller, id, 'recreate an instance of');
    const worker = await this.workerOf(cluster, group, workerId);
    await this.cutOff(worker.id, `worker ${worker.id} was recreated`);
  }

  private async cutOff(workerId: string, reason: string): Promise<void> {
    const requeued = await this.store.releaseWorkerAttempts(workerId, this.clock.nowUs(), reason);
    // The worker learns at its next heartbeat that they are no longer its own, and kills them.
    if (requeued.length) this.options.notifyWork();
  }

  /**
   * Creates a worker token for the cluster (its owner or the admin): what `shoal agent --token` takes.
   * The token is in this response only; the store keeps a hash of its secret.
   */
  async createToken(
    caller: Caller,
    id: string,
  ): Promise<{ TokenId: string; Token: string; ClusterId: string }> {
    await this.changeable(caller, id, 'create a worker token for');
    const minted = mintWorkerToken();
    await this.store.createWorkerToken({
      id: minted.id,
      clusterId: id,
      ownerId: caller.ownerId,
      secretHash: minted.secretHash,
      createdAtUs: this.clock.nowUs(),
    });
    return { TokenId: minted.id, Token: minted.token, ClusterId: id };
  }

  async listTokens(caller: Caller, id: string): Promise<{ TokenId: string; CreationTime: string }[]> {
    await this.changeable(caller, id, 'list the worker tokens of');
    return (await this.store.listWorkerTokens(id)).map((t) => ({
      TokenId: t.id,
      CreationTime: formatTime(t.createdAtUs),
    }));
  }

  /** Deletes a token: agents using it are refused from then on (within seconds on other servers). */
  async deleteToken(caller: Caller, id: string, tokenId: string): Promise<void> {
    await this.changeable(caller, id, 'delete a worker token of');
    const token = await this.store.getWorkerToken(tokenId);
    if (!token || token.clusterId !== id) throw notFound('worker token', tokenId);
    await this.store.deleteWorkerToken(tokenId);
    this.tokens.forget(tokenId);
  }

  /**
   * Checks, at submit, the cluster each task names: it must exist, be the caller's or the service's and
   * be Active. Errors name the field.
   */
  async checkJob(caller: Caller, spec: JobSpec): Promise<void> {
    for (const task of spec.tasks) {
      const attach = task.autoCluster?.clusterId;
      const id = task.clusterId || attach;
      if (!id) continue;
      const field = `DAG.Tasks.${task.name}.${task.clusterId ? 'ClusterId' : 'AutoCluster.ClusterId'}`;
      const cluster = await this.store.getCluster(id);
      if (!cluster || !this.mayUse(caller, cluster))
        throw invalidJob(field, id, 'must be one of your clusters (GET /clusters) or cls-local');
      if (cluster.state !== 'Active') throw invalidJob(field, id, `names a cluster that is ${cluster.state}`);
    }
  }

  private async checkSpec(caller: Caller, spec: ClusterSpec): Promise<void> {
    const known = new Set(this.options.catalog.map((t) => t.name));
    const offered = () => [...known].join(', ');
    if (spec.instanceType && !known.has(spec.instanceType))
      throw invalidParameter(
        'InstanceType',
        spec.instanceType,
        `must be one of ${offered()} (GET /available)`,
      );
    for (const name of Object.keys(spec.groups)) {
      const type = groupInstanceType(spec, name);
      if (!known.has(type))
        throw invalidParameter(
          `Groups.${name}.InstanceType`,
          type,
          `must be one of ${offered()} (GET /available)`,
        );
    }
    await this.images.checkUsable(caller, spec.imageId, 'ImageId');
  }

  private mayUse(caller: Caller, cluster: ClusterRecord): boolean {
    return caller.admin || cluster.ownerId === caller.ownerId || cluster.ownerId === SERVICE_OWNER_ID;
  }

  private async visible(caller: Caller, id: string): Promise<ClusterRecord> {
    const cluster = await this.store.getCluster(id);
    if (!cluster || !this.mayUse(caller, cluster)) throw notFound('cluster', id);
    return cluster;
  }

  /** The cluster, if the caller may change it: its owner, or the admin (the only one for the service's). */
  private async changeable(caller: Caller, id: string, operation: string): Promise<ClusterRecord> {
    const cluster = await this.visible(caller, id);
    if (!caller.admin && cluster.ownerId !== caller.ownerId)
      throw new ShoalError('Forbidden.AdminOnly', `Only the admin may ${operation} the cluster ${id}.`);
    return cluster;
  }

  private groupOf(cluster: ClusterRecord, group: string): void {
    if (!cluster.groups[group]) throw notFound('group', `${cluster.id}/${group}`);
  }

  private async workerOf(cluster: ClusterRecord, group: string, workerId: string): Promise<WorkerRecord> {
    this.groupOf(cluster, group);
    const worker = await this.store.getWorker(workerId);
    if (!worker || worker.clusterId !== cluster.id || worker.groupName !== group)
      throw notFound('cluster instance', workerId);
    return worker;
  }

  /** Every worker of a cluster: clusters hold few enough (MAX_DESIRED_VM_COUNT per group) to count them. */
  private async allWorkers(clusterId: string): Promise<WorkerRecord[]> {
    const all: WorkerRecord[] = [];
    let marker: string | undefined;
    do {
      const page = await this.store.listWorkers({ clusterId, limit: 500, ...(marker ? { marker } : {}) });
      all.push(...page.items);
      marker = page.nextMarker || undefined;
    } while (marker);
    return all;
  }

  private liveSinceUs(): number {
    return this.clock.nowUs() - this.options.leaseMs * 1000;
  }
}
