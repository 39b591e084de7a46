/**
 * Clusters and their workers (spec §4 rows 13–20): what a task names in `ClusterId`. Every server has
 * the default cluster `cls-local`; your own clusters get workers from their provider (`static`: the
 * `shoal agent`s an operator starts).
 */
import type { WireCluster, WireClusterInstance, WireCreated, WireList } from '@shoal/core';
import { ObjectClient } from './objects.js';
import { pages, type ListOptions } from './paging.js';
import { resourcePath } from './query.js';
import type { WireClusterChange, WireClusterDescription } from './wire-extra.js';

/** The cluster operations; use {@link ShoalClient}. */
export class ClusterClient extends ObjectClient {
  /**
   * Creates a cluster.
   * @example const { Id } = await client.createCluster({ Name: 'render', ImageId: 'img-ubuntu', InstanceType: 'shoal.local', Groups: { group: { DesiredVMCount: 2 } } })
   */
  createCluster(
    description: WireClusterDescription,
    options: { idempotentToken?: string } = {},
  ): Promise<WireCreated> {
    const token = options.idempotentToken;
    return this.json({
      method: 'POST',
      path: '/clusters',
      query: { IdempotentToken: token },
      json: description,
      retry: token !== undefined,
    });
  }

  /** One page of clusters: yours and the default one. @example const { Items } = await client.listClusters() */
  listClusters(options: Pick<ListOptions, 'marker' | 'maxItemCount'> = {}): Promise<WireList<WireCluster>> {
    return this.list({
      method: 'GET',
      path: '/clusters',
      query: { Marker: options.marker, MaxItemCount: options.maxItemCount },
    });
  }

  /** Every cluster you can see. @example for await (const c of client.clusters()) console.log(c.Id, c.Name) */
  clusters(): AsyncIterable<WireCluster> {
    return pages((marker) => this.listClusters({ marker }));
  }

  /** One cluster, with its groups' desired and actual worker counts. @example const c = await client.getCluster('cls-local') */
  getCluster(clusterId: string): Promise<WireCluster> {
    return this.json({ method: 'GET', path: resourcePath('clusters', clusterId) });
  }

  /**
   * Changes a cluster: groups' DesiredVMCount (and spot settings), UserData, EnvVars, ImageId.
   * @example await client.modifyCluster(id, { Groups: { group: { DesiredVMCount: 4 } } })
   */
  modifyCluster(clusterId: string, change: WireClusterChange): Promise<void> {
    return this.send({ method: 'PUT', path: resourcePath('clusters', clusterId), json: change });
  }

  /** Deletes a cluster no unfinished task runs on. @example await client.deleteCluster(id) */
  deleteCluster(clusterId: string): Promise<void> {
    return this.send({ method: 'DELETE', path: resourcePath('clusters', clusterId) });
  }

  /**
   * Makes a worker token of a cluster (its owner or the admin): what `shoal agent --token` joins it
   * with. The token is in this response only. @example const { Token } = await client.createWorkerToken(id)
   */
  createWorkerToken(clusterId: string): Promise<{ TokenId: string; Token: string; ClusterId: string }> {
    return this.json({ method: 'POST', path: resourcePath('clusters', clusterId, 'tokens') });
  }

  /** A cluster's worker tokens, without their secrets. @example const { Items } = await client.listWorkerTokens(id) */
  listWorkerTokens(clusterId: string): Promise<WireList<{ TokenId: string; CreationTime: string }>> {
    return this.list({ method: 'GET', path: resourcePath('clusters', clusterId, 'tokens') });
  }

  /** Deletes a worker token; agents using it are refused from then on. @example await client.deleteWorkerToken(id, 'wt-…') */
  deleteWorkerToken(clusterId: string, tokenId: string): Promise<void> {
    return this.send({ method: 'DELETE', path: resourcePath('clusters', clusterId, 'tokens', tokenId) });
  }

  /** One page of a group's workers. @example const { Items } = await client.listClusterInstances('cls-local', 'group') */
  listClusterInstances(
    clusterId: string,
    group: string,
    options: Pick<ListOptions, 'marker' | 'maxItemCount'> = {},
  ): Promise<WireList<WireClusterInstance>> {
    return this.list({
      method: 'GET',
      path: resourcePath('clusters', clusterId, 'groups', group, 'instances'),
      query: { Marker: options.marker, MaxItemCount: options.maxItemCount },
    });
  }

  /** Every worker of a group. @example for await (const vm of client.clusterInstances(id, 'group')) console.log(vm.Id, vm.State) */
  clusterInstances(clusterId: string, group: string): AsyncIterable<WireClusterInstance> {
    return pages((marker) => this.listClusterInstances(clusterId, group, { marker }));
  }

  /** One worker. @example const vm = await client.getClusterInstance(id, 'group', 'i-…') */
  getClusterInstance(clusterId: string, group: string, instanceId: string): Promise<WireClusterInstance> {
    return this.json({
      method: 'GET',
      path: resourcePath('clusters', clusterId, 'groups', group, 'instances', instanceId),
    });
  }

  /**
   * Asks a worker to leave: it finishes what it runs and takes nothing new (one that no longer
   * heartbeats is forgotten at once). @example await client.deleteClusterInstance(id, 'group', 'i-…')
   */
  deleteClusterInstance(clusterId: string, group: string, instanceId: string): Promise<void> {
    return this.send({
      method: 'DELETE',
      path: resourcePath('clusters', clusterId, 'groups', group, 'instances', instanceId),
    });
  }

  /**
   * Recreates a worker: what it runs is cut off and runs again, without using a retry.
   * @example await client.recreateClusterInstance(id, 'group', 'i-…')
   */
  recreateClusterInstance(clusterId: string, group: string, instanceId: string): Promise<void> {
    return this.send({
      method: 'POST',
      path: `${resourcePath('clusters', clusterId, 'groups', group, 'instances', instanceId)}/recreate`,
    });
  }
}
