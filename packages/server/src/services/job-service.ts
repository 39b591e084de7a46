/**
 * Job operations behind the API: validation, ownership, the store transaction, then wake-ups for workers.
 * Another owner's job is reported as not found, so ids do not leak across users.
 */
import type {
  Clock,
  InstanceRecord,
  InstanceTypeSpec,
  JobSpec,
  MountRule,
  JobRecord,
  ListChildrenQuery,
  Page,
  State,
  Store,
  TaskRecord,
} from '@shoal/core';
import {
  DEFAULT_CLUSTER_ID,
  invalidJob,
  invalidParameter,
  notFound,
  PRIORITY_MAX,
  PRIORITY_MIN,
  validateJobDescription,
} from '@shoal/core';
import { newJobId } from '../ids.js';
import type { WorkerGateway } from '../scheduler/gateway.js';
import type { Caller } from './caller.js';
import type { ClusterService } from './cluster-service.js';
import type { ImageService } from './image-service.js';
import type { QuotaService } from './quota-service.js';
import { resolveMounts } from './mount-policy.js';
import type { ObjectAccess } from './object-access.js';

export class JobService {
  constructor(
    private readonly store: Store,
    private readonly gateway: WorkerGateway,
    /** A job was deleted: its rows and logs are to be purged. */
    private readonly deleted: () => void,
    private readonly clock: Clock,
    private readonly objects: ObjectAccess,
    private readonly catalog: readonly InstanceTypeSpec[],
    private readonly images: ImageService,
    private readonly clusters: ClusterService,
    private readonly mountRules: readonly MountRule[] = [],
    private readonly quotas: QuotaService,
    /** Where tasks that name no cluster go: the default cluster, or AUTO_CLUSTER_PENDING with AutoClusters on. */
    private readonly unnamedClusterId = DEFAULT_CLUSTER_ID,
    /** What the embedded worker's machine holds, when it runs one: the default cluster's only worker. */
    private readonly embeddedMachine?: { readonly cpuMillis: number; readonly memoryBytes: number },
  ) {}

  async submit(caller: Caller, body: unknown, idempotentToken: string | null): Promise<string> {
    const validated = validateJobDescription(body);
    this.checkInstanceTypes(validated);
    await this.quotas.checkJob(caller, validated);
    await this.clusters.checkJob(caller, validated);
    const spec = resolveMounts(await this.images.resolveJob(caller, validated), this.mountRules);
    await this.objects.checkJob(caller, spec);
    const now = this.clock.nowUs();
    const { id, created } = await this.store.createJob(
      {
        id: newJobId(now),
        ownerId: caller.ownerId,
        spec,
        descriptionJson: JSON.stringify(body),
        idempotentToken,
        unnamedClusterId: this.unnamedClusterId,
      },
      now,
    );
    if (created) this.gateway.notifyWork();
    return id;
  }

  /** Every task's instance type must be one this server offers (GET /available); '' means shoal.local. */
  private checkInstanceTypes(spec: JobSpec): void {
    for (const task of spec.tasks) {
      const name = task.autoCluster?.instanceType ?? '';
      const field = `DAG.Tasks.${task.name}.AutoCluster.InstanceType`;
      const type = this.catalog.find((t) => t.name === name);
      if (name !== '' && !type)
        throw invalidJob(
          field,
          name,
          `must be one of the instance types on offer (${this.catalog.map((t) => t.name).join(', ')})`,
        );
      // On the default cluster the embedded worker is the only machine: a type it cannot hold would
      // wait for ever.
      const onDefault =
        !task.clusterId && !task.autoCluster?.clusterId && this.unnamedClusterId === DEFAULT_CLUSTER_ID;
      const machine = this.embeddedMachine;
      if (
        type &&
        onDefault &&
        machine &&
        (type.cpuCores * 1000 > machine.cpuMillis || type.memoryBytes > machine.memoryBytes)
      )
        throw invalidJob(
          field,
          name,
          `is larger than this server's machine (${machine.cpuMillis / 1000} cores, ${Math.floor(machine.memoryBytes / 2 ** 20)} MiB); run the task on a cluster whose workers have room (ClusterId)`,
        );
    }
  }

  /** The job if the caller may see it; NotFound otherwise. */
  async get(caller: Caller, id: string): Promise<JobRecord> {
    const job = await this.store.getJob(id);
    if (!job || (!caller.admin && job.ownerId !== caller.ownerId)) throw notFound('job', id);
    return job;
  }

  async list(
    caller: Caller,
    query: { states?: readonly State[]; marker?: string; limit: number; nameContains?: string },
  ): Promise<Page<JobRecord>> {
    if (query.marker)
      await this.get(caller, query.marker).catch(() => {
        throw invalidParameter('Marker', query.marker, 'must be the Id of a job from a previous page');
      });
    return this.store.listJobs({ ...query, ...(caller.admin ? {} : { ownerId: caller.ownerId }) });
  }

  /** The description as submitted, with the current Priority (the one field that can change after). */
  async description(caller: Caller, id: string): Promise<unknown> {
    const job = await this.get(caller, id);
    const submitted = JSON.parse((await this.store.getJobDescription(id)) ?? '{}') as Record<string, unknown>;
    return { ...submitted, Priority: job.priority };
  }

  async stop(caller: Caller, id: string): Promise<void> {
    await this.get(caller, id);
    await this.store.stopJob(id, this.clock.nowUs());
    this.gateway.notifyCancel();
  }

  async start(caller: Caller, id: string): Promise<void> {
    await this.get(caller, id);
    await this.store.startJob(id, this.clock.nowUs());
    this.gateway.notifyWork();
  }

  async changePriority(caller: Caller, id: string, body: unknown): Promise<void> {
    const raw =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>).Priority : undefined;
    const priority = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    if (
      typeof priority !== 'number' ||
      !Number.isInteger(priority) ||
      priority < PRIORITY_MIN ||
      priority > PRIORITY_MAX
    ) {
      throw invalidParameter('Priority', raw, `must be an integer in [${PRIORITY_MIN}, ${PRIORITY_MAX}]`);
    }
    await this.get(caller, id);
    await this.store.changeJobPriority(id, priority, this.clock.nowUs());
  }

  async delete(caller: Caller, id: string): Promise<void> {
    await this.get(caller, id);
    await this.release(id);
  }

  /**
   * Deletes a settled job (also used for AutoRelease): gone for the API when this returns; its rows and
   * logs are purged after (scheduler/purger.ts), however many instances it had.
   */
  async release(id: string): Promise<void> {
    await this.store.deleteJob(id, this.clock.nowUs());
    this.deleted();
  }

  async tasks(caller: Caller, id: string, query: ListChildrenQuery): Promise<Page<TaskRecord>> {
    await this.get(caller, id);
    if (query.marker && !(await this.store.getTask(id, query.marker))) {
      throw invalidParameter('Marker', query.marker, 'must be the name of a task of this job');
    }
    return this.store.listTasks(id, query);
  }

  async task(caller: Caller, id: string, name: string): Promise<TaskRecord> {
    await this.get(caller, id);
    const task = await this.store.getTask(id, name);
    if (!task) throw notFound('task', `${id}/${name}`);
    return task;
  }

  async instances(
    caller: Caller,
    id: string,
    name: string,
    query: ListChildrenQuery,
  ): Promise<Page<InstanceRecord>> {
    await this.task(caller, id, name);
    if (query.marker !== undefined && query.marker !== '' && !/^\d+$/.test(query.marker)) {
      throw invalidParameter('Marker', query.marker, 'must be an instance number');
    }
    return this.store.listInstances(id, name, query);
  }

  async instance(
    caller: Caller,
    id: string,
    name: string,
    instanceId: string,
  ): Promise<{ task: TaskRecord; instance: InstanceRecord }> {
    const task = await this.task(caller, id, name);
    const n = /^\d+$/.test(instanceId) ? Number(instanceId) : NaN;
    const instance = Number.isNaN(n) ? undefined : await this.store.getInstance(id, name, n);
    if (!instance) throw notFound('instance', `${id}/${name}/${instanceId}`);
    return { task, instance };
  }
}
