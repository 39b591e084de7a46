/**
 * AutoCluster (seed 002, spec §5.6): a task that names no cluster gets one of its own when it becomes
 * runnable, made from its AutoCluster's InstanceType, ImageId and ResourceType, shown in its owner's
 * cluster list while it lives, and released when the task ends (kept when it failed and asked for
 * ReserveOnFail, for inspection: its owner deletes it). The cluster's workers come from the configured
 * provider (`local`: agents on this host; `slurm`: job arrays), as many as the task has instances up to
 * `maxVMs`. With AutoCluster off (the one-machine default) such tasks run on the default cluster.
 */
import type { AutoClusterCandidate, ClusterRecord, Clock, Store } from '@shoal/core';
import { DEFAULT_GROUP_NAME, DEFAULT_IMAGE_ID, LOCAL_INSTANCE_TYPE } from '@shoal/core';
import type { Logger } from 'pino';
import { newClusterId } from '../ids.js';
import { allClusters } from './provider-clusters.js';
import { RoundsOf } from './rounds.js';

export interface AutoClusterOptions {
  readonly provider: 'local' | 'slurm';
  /** Workers of one AutoCluster at most. */
  readonly maxVMs: number;
  readonly intervalMs: number;
}

const ENDED = new Set(['Finished', 'Failed', 'Stopped']);

export function autoClusterRecord(
  c: AutoClusterCandidate,
  options: AutoClusterOptions,
  nowUs: number,
): ClusterRecord {
  const auto = c.task.autoCluster!;
  const instanceType = auto.instanceType || LOCAL_INSTANCE_TYPE;
  return {
    id: newClusterId(),
    ownerId: c.ownerId,
    state: 'Active',
    createdAtUs: nowUs,
    name: `auto.${c.jobId}.${c.taskName}`.slice(0, 100),
    description: `AutoCluster of task ${c.taskName} of job ${c.jobId}`,
    imageId: auto.imageId || DEFAULT_IMAGE_ID,
    instanceType,
    provider: options.provider,
    groups: {
      [DEFAULT_GROUP_NAME]: {
        desiredVMCount: Math.max(1, Math.min(c.task.instanceCount, options.maxVMs)),
        instanceType,
        resourceType: auto.resourceType === 'Spot' ? 'Spot' : 'OnDemand',
        spotStrategy: '',
        spotPriceLimit: 0,
        hostnamePrefix: '',
      },
    },
    userData: { ...auto.userData },
    envVars: {},
    inputMapping: {},
    configs: null,
    notification: null,
    bootstrap: '',
    autoFor: { jobId: c.jobId, taskName: c.taskName },
  };
}

export class AutoClusters extends RoundsOf {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: AutoClusterOptions,
    /** Called when clusters came or went: the providers act on it at once. */
    private readonly changed: () => void,
    /** Whether the owner's Clusters quota has room: a task over it waits for its AutoCluster. */
    private readonly room: (ownerId: number) => Promise<boolean> = async () => true,
  ) {
    super(options.intervalMs, 'AutoCluster', log);
  }

  protected async round(): Promise<void> {
    let changes = 0;
    for (const candidate of await this.store.listAutoClusterCandidates(50)) {
      if (!(await this.room(candidate.ownerId))) continue;
      const record = autoClusterRecord(candidate, this.options, this.clock.nowUs());
      if (!(await this.store.createAutoCluster(record))) continue;
      changes++;
      this.log.info(
        { clusterId: record.id, jobId: candidate.jobId, task: candidate.taskName },
        'created an AutoCluster',
      );
    }
    for (const cluster of await allClusters(this.store)) {
      const auto = cluster.autoFor;
      if (!auto) continue;
      const task = await this.store.getTask(auto.jobId, auto.taskName);
      if (task && !ENDED.has(task.state)) continue;
      if (task?.state === 'Failed' && task.spec.autoCluster?.reserveOnFail) continue;
      if (!(await this.store.releaseAutoCluster(cluster))) continue;
      changes++;
      this.log.info({ clusterId: cluster.id, ...auto }, 'released an AutoCluster');
    }
    if (changes) this.changed();
  }
}
