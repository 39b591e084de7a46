/**
 * Elastic groups (`MaxVMCount`, a Shoal addition; what AttachCluster jobs join, seed 002): every round
 * each elastic group's DesiredVMCount follows its cluster's demand, the instances queued on it and
 * running on its workers. It grows at once, up to MaxVMCount; it shrinks, down to the owner's
 * DesiredVMCount, only once the demand has stayed below the target for the idle time, so a gap between
 * two tasks does not stop workers that are about to be needed again. The providers then start or drain
 * workers to match.
 */
import type { ClusterRecord, Store } from '@shoal/core';
import { elasticTarget, isElastic } from '@shoal/core';
import type { Logger } from 'pino';
import { allClusters } from './provider-clusters.js';
import { RoundsOf } from './rounds.js';

export interface ElasticOptions {
  readonly intervalMs: number;
  /** How long demand stays below a group's target before it shrinks. */
  readonly idleMs: number;
}

export class ElasticGroups extends RoundsOf {
  /** `<cluster>/<group>` -> since when its demand has been below its target. */
  private readonly belowSince = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly options: ElasticOptions,
    /** Called when a target changed: the providers act on it at once. */
    private readonly changed: () => void,
  ) {
    super(options.intervalMs, 'elastic groups', log);
  }

  protected async round(): Promise<void> {
    let changes = 0;
    for (const cluster of await allClusters(this.store)) {
      if (cluster.state !== 'Active' || !Object.values(cluster.groups).some(isElastic)) continue;
      const demand = await this.store.clusterDemand(cluster.id);
      const next = this.scaled(cluster, demand, Date.now());
      // Changed or deleted since it was read: the next round works from the new state.
      if (next && (await this.store.replaceCluster(cluster, next))) changes++;
    }
    if (changes) this.changed();
  }

  /** The cluster with its elastic groups' new targets, or undefined when none changes. */
  private scaled(cluster: ClusterRecord, demand: number, nowMs: number): ClusterRecord | undefined {
    let changed = false;
    const groups = { ...cluster.groups };
    for (const [name, g] of Object.entries(cluster.groups)) {
      if (!isElastic(g)) continue;
      const key = `${cluster.id}/${name}`;
      if (demand >= g.desiredVMCount) this.belowSince.delete(key);
      else if (!this.belowSince.has(key)) this.belowSince.set(key, nowMs);
      const since = this.belowSince.get(key);
      const idle = since !== undefined && nowMs - since >= this.options.idleMs;
      const target = elasticTarget(g, demand, idle);
      if (target === g.desiredVMCount) continue;
      this.log.info(
        { clusterId: cluster.id, group: name, from: g.desiredVMCount, to: target, demand },
        'scaled an elastic group',
      );
      groups[name] = { ...g, desiredVMCount: target };
      if (target < g.desiredVMCount) this.belowSince.delete(key);
      changed = true;
    }
    return changed ? { ...cluster, groups } : undefined;
  }
}
