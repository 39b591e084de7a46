/**
 * Quotas, enforced in one place: every job, cluster and AutoCluster a user asks for is checked here
 * before anything is written (core/quotas.ts says what they are and how the admin sets them).
 */
import type { ClaimLimits, JobSpec, QuotaConfig, Quotas, Store } from '@shoal/core';
import { QUOTA_FIELDS, quotasOf, ShoalError } from '@shoal/core';
import type { Caller } from './caller.js';

export interface QuotaUsage {
  readonly clusters: number;
  readonly jobs: number;
}

function exceeded(field: keyof Quotas, limit: number, what: string, hint: string): ShoalError {
  return new ShoalError(
    'QuotaExceeded',
    `Quota ${QUOTA_FIELDS[field]} (${limit}) exceeded: ${what}. ${hint}`.trim(),
  );
}

/** How often the user names behind owner ids are read again (for quotas applied by owner id). */
const NAMES_TTL_MS = 5_000;

export class QuotaService implements ClaimLimits {
  private names = new Map<number, string>();
  private namesAt = 0;
  private reading: Promise<void> | undefined;
  /** Whether any running-instances limit is set at all: without one, claims pay nothing for it. */
  private readonly runningLimited: boolean;

  constructor(
    private readonly store: Store,
    private readonly config: QuotaConfig,
  ) {
    this.runningLimited =
      Number.isFinite(config.defaults.runningInstances) ||
      Number.isFinite(config.defaults.cpuCores) ||
      Object.values(config.users).some((u) => u.runningInstances !== undefined || u.cpuCores !== undefined);
  }

  /**
   * The running-instances limit of an owner, for the scheduler's claims (synchronous: it runs inside
   * the claim's transaction). Names are cached; a user made a moment ago gets the default until the
   * next read.
   */
  runningPerOwner(ownerId: number): number | undefined {
    const limit = this.ownerQuotas(ownerId)?.runningInstances;
    return limit !== undefined && Number.isFinite(limit) ? limit : undefined;
  }

  /** The CPU-cores quota of an owner in thousandths of a core, for claims. */
  cpuPerOwner(ownerId: number): number | undefined {
    const cores = this.ownerQuotas(ownerId)?.cpuCores;
    return cores !== undefined && Number.isFinite(cores) ? cores * 1000 : undefined;
  }

  private ownerQuotas(ownerId: number): Quotas | undefined {
    if (!this.runningLimited) return undefined;
    if (Date.now() - this.namesAt > NAMES_TTL_MS)
      // A failed read keeps the names known so far; the next claim tries again.
      this.readNames().catch(() => (this.namesAt = Date.now()));
    return quotasOf(this.config, this.names.get(ownerId) ?? '');
  }

  /** Reads the user names now (the server does once at start). */
  readNames(): Promise<void> {
    this.reading ??= (async () => {
      try {
        const names = new Map<number, string>();
        let marker: string | undefined;
        do {
          const page = await this.store.listUsers({ limit: 1000, ...(marker ? { marker } : {}) });
          for (const u of page.items) names.set(u.ownerId, u.name);
          marker = page.nextMarker || undefined;
        } while (marker);
        this.names = names;
        this.namesAt = Date.now();
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  limitsOf(caller: Pick<Caller, 'name'>): Quotas {
    return quotasOf(this.config, caller.name);
  }

  async usageOf(ownerId: number): Promise<QuotaUsage> {
    return { clusters: await this.clusterCount(ownerId), jobs: await this.activeJobs(ownerId) };
  }

  /** A job's shape first (no database), then how many jobs the user already runs. */
  async checkJob(caller: Caller, spec: JobSpec): Promise<void> {
    const q = this.limitsOf(caller);
    if (spec.tasks.length > q.tasksPerJob)
      throw exceeded('tasksPerJob', q.tasksPerJob, `the job has ${spec.tasks.length} tasks`, '');
    const total = spec.tasks.reduce((sum, t) => sum + t.instanceCount, 0);
    if (total > q.instancesPerJob)
      throw exceeded(
        'instancesPerJob',
        q.instancesPerJob,
        `the job asks for ${total} instances in all its tasks together`,
        'Split it into several jobs, or ask the admin for a larger quota.',
      );
    const active = await this.activeJobs(caller.ownerId);
    if (active + 1 > q.jobs)
      throw exceeded(
        'jobs',
        q.jobs,
        `${active} of your jobs are Waiting or Running`,
        'Wait for some to end.',
      );
  }

  /** Before a user's cluster (or an AutoCluster of theirs) is made. */
  async checkNewCluster(caller: Pick<Caller, 'name' | 'ownerId'>): Promise<void> {
    const q = this.limitsOf(caller);
    const owned = await this.clusterCount(caller.ownerId);
    if (owned + 1 > q.clusters)
      throw exceeded('clusters', q.clusters, `you own ${owned} clusters`, 'Delete one first.');
  }

  /** Whether an owner may have one more cluster (an AutoCluster: there is no request to refuse). */
  async clusterRoom(ownerId: number): Promise<boolean> {
    const q = quotasOf(this.config, this.names.get(ownerId) ?? '');
    return (await this.clusterCount(ownerId)) < q.clusters;
  }

  private activeJobs(ownerId: number): Promise<number> {
    return this.store.countJobs(ownerId, ['Waiting', 'Running']);
  }

  private async clusterCount(ownerId: number): Promise<number> {
    let n = 0;
    let marker: string | undefined;
    do {
      const page = await this.store.listClusters({
        ownerIds: [ownerId],
        limit: 1000,
        ...(marker ? { marker } : {}),
      });
      n += page.items.length;
      marker = page.nextMarker || undefined;
    } while (marker);
    return n;
  }
}
