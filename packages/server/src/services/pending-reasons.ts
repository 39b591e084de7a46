/**
 * Why is it waiting? (Shoal addition `PendingReason` on Waiting tasks and instances.) Computed when read,
 * from what the scheduler itself looks at, in the order it looks: the task's predecessors, its cluster
 * (being made as an AutoCluster, or without a live worker), a retry's backoff, the task's own concurrency cap, its owner's
 * quotas, and else its place in the cluster's queue (counted up to QUEUE_COUNT_CAP).
 */
import type { ClaimLimits, Clock, InstanceRecord, Store, TaskRecord, WirePendingReason } from '@shoal/core';
import { AUTO_CLUSTER_PENDING } from '@shoal/core';

/** Queued instances counted ahead of one, at most: past it the position reads "at least". */
export const QUEUE_COUNT_CAP = 100_000;
/** The same in listings, where a page of tasks would otherwise count that far for each. */
export const LIST_COUNT_CAP = 1_000;

export class PendingReasons {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly limits: ClaimLimits,
    /** A worker whose last heartbeat is older than this is not counted as live. */
    private readonly leaseMs: number,
  ) {}

  /** Why a Waiting task's instances do not run; undefined for a task that is not Waiting. */
  async ofTask(
    task: TaskRecord,
    ownerId: number,
    countCap = QUEUE_COUNT_CAP,
  ): Promise<WirePendingReason | undefined> {
    if (task.state !== 'Waiting' && task.counts.waiting === 0) return undefined;
    return this.reason(task, ownerId, undefined, countCap);
  }

  /** Why a Waiting instance does not run, with its place in the queue when it is queued. */
  async ofInstance(
    task: TaskRecord,
    instance: InstanceRecord,
    ownerId: number,
  ): Promise<WirePendingReason | undefined> {
    if (instance.state !== 'Waiting') return undefined;
    return this.reason(task, ownerId, instance.instanceId, QUEUE_COUNT_CAP);
  }

  private async reason(
    task: TaskRecord,
    ownerId: number,
    instanceId: number | undefined,
    countCap: number,
  ): Promise<WirePendingReason> {
    const waitingFor = await this.unfinishedPredecessors(task);
    if (waitingFor.length)
      return {
        Code: 'WaitingForTasks',
        Message: `waiting for task${waitingFor.length > 1 ? 's' : ''} ${waitingFor.join(', ')} to finish`,
        Tasks: waitingFor,
      };
    const position = await this.store.queuePosition(task.jobId, task.name, instanceId, countCap);
    if (!position)
      return { Code: 'Starting', Message: 'being put in the queue (its predecessors just finished)' };
    const backoff = this.backoff(position.notBeforeUs);
    if (backoff) return backoff;
    if (position.clusterId === AUTO_CLUSTER_PENDING)
      return { Code: 'WaitingForCluster', Message: 'its AutoCluster is being created' };
    if (!(await this.hasLiveWorker(position.clusterId)))
      return {
        Code: 'NoWorker',
        Message: `no worker of cluster ${position.clusterId} is running to take it`,
        ClusterId: position.clusterId,
      };
    const cap = task.spec.maxRunningInstances ?? 0;
    if (cap > 0 && task.counts.running >= cap)
      return {
        Code: 'TaskConcurrencyCap',
        Message: `the task already runs its MaxRunningInstances (${cap})`,
      };
    const running = this.limits.runningPerOwner(ownerId);
    if (running !== undefined && (await this.store.ownerRunningCount(ownerId)) >= running)
      return {
        Code: 'QuotaRunningInstances',
        Message: `your quota RunningInstances (${running}) is reached: it starts when one of yours ends`,
      };
    const cpu = this.limits.cpuPerOwner?.(ownerId);
    const demandOf = this.limits.demandOf;
    if (cpu !== undefined && demandOf) {
      let used = 0;
      for (const { task: t, running: n } of await this.store.ownerRunningTasks(ownerId))
        used += n * demandOf(t).cpuMillis;
      if (used + demandOf(task.spec).cpuMillis > cpu)
        return {
          Code: 'QuotaCpuCores',
          Message: `your quota CpuCores (${cpu / 1000}) is reached: ${used / 1000} cores run now`,
        };
    }
    return queued(position.clusterId, position.ahead, countCap);
  }

  /**
   * Reasons for a page of a task's Waiting instances: the task's, with each queued instance's own place
   * in the queue when the task's reason is its place (one count per queue row, not per instance).
   */
  async ofListed(
    task: TaskRecord,
    instances: readonly InstanceRecord[],
    ownerId: number,
  ): Promise<Map<number, WirePendingReason>> {
    const out = new Map<number, WirePendingReason>();
    const waiting = instances.filter((i) => i.state === 'Waiting').map((i) => i.instanceId);
    if (waiting.length === 0) return out;
    const reason = await this.reason(task, ownerId, undefined, LIST_COUNT_CAP);
    const places =
      reason.Code === 'Queued' || reason.Code === 'RetryBackoff'
        ? await this.store.queuePositions(task.jobId, task.name, waiting, LIST_COUNT_CAP)
        : undefined;
    for (const id of waiting) {
      const place = places?.get(id);
      out.set(
        id,
        !place
          ? reason
          : (this.backoff(place.notBeforeUs) ?? queued(place.clusterId, place.ahead, LIST_COUNT_CAP)),
      );
    }
    return out;
  }

  private backoff(notBeforeUs: number): WirePendingReason | undefined {
    const waitUs = notBeforeUs - this.clock.nowUs();
    return waitUs > 0
      ? {
          Code: 'RetryBackoff',
          Message: `retried after a failure: runs again in ${Math.ceil(waitUs / 1e6)} s (RetryStrategy.BackoffSeconds)`,
        }
      : undefined;
  }

  private async unfinishedPredecessors(task: TaskRecord): Promise<string[]> {
    const out: string[] = [];
    for (const name of task.predecessors) {
      const pred = await this.store.getTask(task.jobId, name);
      if (pred && pred.state !== 'Finished') out.push(name);
    }
    return out;
  }

  private async hasLiveWorker(clusterId: string): Promise<boolean> {
    const since = this.clock.nowUs() - this.leaseMs * 1000;
    let marker: string | undefined;
    do {
      const page = await this.store.listWorkers({ clusterId, limit: 100, ...(marker ? { marker } : {}) });
      if (page.items.some((w) => w.state === 'Running' && w.heartbeatAtUs >= since)) return true;
      marker = page.nextMarker || undefined;
    } while (marker);
    return false;
  }
}

/** A queued instance's reason: its place in its cluster's queue (counted up to `cap`, then "at least"). */
function queued(clusterId: string, ahead: number, cap: number): WirePendingReason {
  const atLeast = ahead >= cap ? 'at least ' : '';
  return {
    Code: 'Queued',
    Message: `queued on ${clusterId} behind ${atLeast}${ahead} instance${ahead === 1 ? '' : 's'} of higher priority or submitted earlier`,
    ClusterId: clusterId,
    QueuePosition: ahead + 1,
  };
}
