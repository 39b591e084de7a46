/** The Store contract, part three: clusters, their workers, and claims confined to a worker's cluster. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterRecord, Store } from '@shoal/core';
import { AUTO_CLUSTER_PENDING } from '@shoal/core';
import { jobId, ok, singleTaskSpec } from './fixtures.js';

type Open = () => Promise<Store>;
const LEASE = 60_000_000;

function cluster(id: string, ownerId: number, desired = 1): ClusterRecord {
  return {
    id,
    ownerId,
    state: 'Active',
    createdAtUs: 7,
    name: `n-${id}`,
    description: 'd',
    imageId: 'img-ubuntu',
    instanceType: 'shoal.local',
    provider: 'static',
    groups: {
      g: {
        desiredVMCount: desired,
        instanceType: '',
        resourceType: 'OnDemand',
        spotStrategy: '',
        spotPriceLimit: 0,
        hostnamePrefix: '',
      },
    },
    userData: { a: 'b' },
    envVars: {},
    inputMapping: {},
    configs: null,
    notification: null,
    bootstrap: '',
  };
}

async function submitOn(store: Store, clusterId: string, instances = 2): Promise<string> {
  const id = jobId();
  const spec = singleTaskSpec('on-cluster', { clusterId, instanceCount: instances });
  await store.createJob({ id, ownerId: 2, spec, descriptionJson: '{}', idempotentToken: null }, 1);
  return id;
}

export function clustersContract(name: string, open: Open): void {
  describe(`Store contract (clusters): ${name}`, () => {
    it('creates, reads, lists per owner, rewrites and deletes clusters; a repeated token returns the first', async () => {
      const store = await open();
      assert.deepEqual(await store.createCluster(cluster('cls-a', 2), 'tok'), { id: 'cls-a', created: true });
      assert.deepEqual(await store.createCluster(cluster('cls-b', 2), 'tok'), {
        id: 'cls-a',
        created: false,
      });
      assert.deepEqual(await store.createCluster(cluster('cls-c', 3), 'tok'), { id: 'cls-c', created: true });
      await store.putCluster(cluster('cls-0', 0));
      assert.deepEqual(await store.getCluster('cls-a'), cluster('cls-a', 2));
      assert.equal(await store.getCluster('cls-none'), undefined);
      const mine = await store.listClusters({ ownerIds: [2, 0], limit: 1 });
      assert.deepEqual([mine.items.map((c) => c.id), mine.nextMarker], [['cls-0'], 'cls-0']);
      const rest = await store.listClusters({ ownerIds: [2, 0], marker: 'cls-0', limit: 5 });
      assert.deepEqual([rest.items.map((c) => c.id), rest.nextMarker], [['cls-a'], '']);
      assert.equal((await store.listClusters({ limit: 10 })).items.length, 3);
      await store.putCluster(cluster('cls-a', 2, 4));
      assert.equal((await store.getCluster('cls-a'))?.groups.g?.desiredVMCount, 4);
      assert.deepEqual(await store.deleteCluster('cls-a'), { deleted: true });
      assert.deepEqual(await store.deleteCluster('cls-a'), { deleted: false });
      await store.close();
    });

    it('claims only work of the worker’s own cluster; a Deleting or unknown worker claims none', async () => {
      const store = await open();
      await store.createCluster(cluster('cls-x', 2), null);
      await store.createCluster(cluster('cls-y', 2), null);
      const onX = await submitOn(store, 'cls-x');
      const onY = await submitOn(store, 'cls-y');
      await store.registerWorker(
        { id: 'wx', clusterId: 'cls-x', groupName: 'g', hostname: 'h', slots: 2 },
        5,
      );
      await store.registerWorker(
        { id: 'wy', clusterId: 'cls-y', groupName: 'g', hostname: 'h', slots: 2 },
        5,
      );
      assert.deepEqual(await store.claimAttempts('nobody', 5, 10, 10 + LEASE), []);
      const x = await store.claimAttempts('wx', 5, 10, 10 + LEASE);
      assert.deepEqual(
        x.map((c) => c.jobId),
        [onX, onX],
      );
      assert.equal(await store.setWorkerState('wy', 'Deleting'), true);
      assert.deepEqual(await store.claimAttempts('wy', 5, 10, 10 + LEASE), []);
      assert.equal((await store.getWorker('wy'))?.state, 'Deleting');
      // Registering again (a restart) makes it a Running worker that takes work.
      await store.registerWorker(
        { id: 'wy', clusterId: 'cls-y', groupName: 'g', hostname: 'h', slots: 2 },
        11,
      );
      const y = await store.claimAttempts('wy', 5, 12, 12 + LEASE);
      assert.deepEqual(
        y.map((c) => c.jobId),
        [onY, onY],
      );

      const workers = await store.listWorkers({ clusterId: 'cls-x', groupName: 'g', limit: 10 });
      assert.deepEqual(
        workers.items.map((w) => [w.id, w.groupName, w.slots, w.state, w.heartbeatAtUs]),
        [['wx', 'g', 2, 'Running', 5]],
      );
      // A cluster whose tasks have not ended cannot go; once they have, it goes with its workers' rows.
      assert.deepEqual(await store.deleteCluster('cls-x'), { deleted: false, busyJobId: onX });
      await store.finishAttempts(
        'wx',
        x.map((c) => ok(c.attemptId)),
        20,
      );
      assert.deepEqual(await store.deleteCluster('cls-x'), { deleted: true });
      assert.equal(await store.getWorker('wx'), undefined);
      assert.equal(await store.deleteWorker('wy'), true);
      assert.equal(await store.deleteWorker('wy'), false);
      await store.close();
    });

    it('moves a runnable AutoCluster task onto its cluster, and back to waiting for one once released', async () => {
      const store = await open();
      const id = jobId();
      const spec = singleTaskSpec('auto', { clusterId: '', instanceCount: 2 });
      await store.createJob(
        {
          id,
          ownerId: 2,
          spec,
          descriptionJson: '{}',
          idempotentToken: null,
          unnamedClusterId: AUTO_CLUSTER_PENDING,
        },
        1,
      );
      const candidates = await store.listAutoClusterCandidates(10);
      assert.deepEqual(
        candidates.map((c) => [c.jobId, c.taskName, c.ownerId]),
        [[id, 'task', 2]],
      );
      // Nobody claims it while it waits: no worker is of the pending cluster.
      await store.registerWorker(
        { id: 'wl', clusterId: 'cls-local', groupName: 'g', hostname: 'h', slots: 2 },
        2,
      );
      assert.equal((await store.claimAttempts('wl', 2, 3, LEASE)).length, 0);
      const auto: ClusterRecord = { ...cluster('cls-auto1', 2), autoFor: { jobId: id, taskName: 'task' } };
      assert.equal(await store.createAutoCluster(auto), true);
      assert.deepEqual(await store.getCluster('cls-auto1'), auto);
      // Once only: the task no longer waits for one.
      assert.equal(await store.createAutoCluster({ ...auto, id: 'cls-auto2' }), false);
      assert.equal(await store.getCluster('cls-auto2'), undefined);
      assert.deepEqual(await store.listAutoClusterCandidates(10), []);
      // A running task's cluster is not released.
      assert.equal(await store.releaseAutoCluster(auto), false);
      await store.registerWorker(
        { id: 'wa', clusterId: 'cls-auto1', groupName: 'g', hostname: 'h', slots: 2 },
        4,
      );
      const claimed = await store.claimAttempts('wa', 2, 5, LEASE);
      assert.equal(claimed.length, 2);
      await store.finishAttempts(
        'wa',
        claimed.map((c) => ok(c.attemptId)),
        6,
      );
      assert.equal(await store.releaseAutoCluster(auto), true);
      assert.equal(await store.getCluster('cls-auto1'), undefined);
      // Tasks left waiting can be moved to the default cluster (a server started with AutoClusters off).
      const later = jobId();
      await store.createJob(
        {
          id: later,
          ownerId: 2,
          spec,
          descriptionJson: '{}',
          idempotentToken: null,
          unnamedClusterId: AUTO_CLUSTER_PENDING,
        },
        7,
      );
      // Both tasks: the ended one waits for a cluster again too, should its job be started again.
      assert.equal(await store.moveClusterTasks(AUTO_CLUSTER_PENDING, 'cls-local'), 2);
      assert.equal((await store.claimAttempts('wl', 2, 8, LEASE)).length, 2);
      await store.close();
    });
  });
}
