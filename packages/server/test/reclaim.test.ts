/**
 * Workers taken away under running attempts: a recreated worker (`rci`) and a reclaimed Spot worker cut
 * off what they run; it runs again without using a retry, and the attempt says why it was cut off.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { simpleJob, startTestShoal, testAgents, type TestShoal, until } from './helpers.js';

let shoal: TestShoal;
const agents = testAgents(() => shoal.url, 2_145_000_000);

before(async () => {
  shoal = await startTestShoal({ slots: 0 });
});

after(async () => {
  agents.cleanup();
  await shoal.cleanup();
});

async function clusterOf(resourceType: 'OnDemand' | 'Spot', workers: number) {
  const created = await shoal.api('POST', '/clusters', {
    Name: `reclaim-${resourceType}`,
    ImageId: 'img-ubuntu',
    InstanceType: 'shoal.local',
    Groups: { group: { DesiredVMCount: workers, ResourceType: resourceType } },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.Id as string;
  const token = (await shoal.api('POST', `/clusters/${id}/tokens`)).json.Token as string;
  const ids: string[] = [];
  for (let i = 0; i < workers; i++) ids.push((await agents.start(id, token)).id);
  return { id, workers: ids };
}

/** Submits `sleep 3` on the cluster and waits until it runs; returns the job and the worker it runs on. */
async function running(clusterId: string) {
  const job = await shoal.api(
    'POST',
    '/jobs',
    simpleJob('sleep 3', { ClusterId: clusterId, AutoCluster: {} }),
  );
  assert.equal(job.status, 201, job.text);
  const id = job.json.Id as string;
  const worker = await until('the instance running', async () => {
    const i = (await shoal.api('GET', `/jobs/${id}/tasks/task/instances/0`)).json;
    return i.State === 'Running' ? (i.WorkerId as string) : undefined;
  });
  return { id, worker };
}

async function settled(jobId: string, cutOff: RegExp) {
  const done = await shoal.waitForJob(jobId, undefined, 60_000);
  assert.equal(done.State, 'Finished', JSON.stringify(done));
  const instance = (await shoal.api('GET', `/jobs/${jobId}/tasks/task/instances/0`)).json;
  assert.equal(instance.RetryCount, 0);
  assert.equal(instance.AttemptCount, 2);
  const [first] = await shoal.store.listAttempts(jobId, 'task', 0);
  assert.equal(first?.state, 'Lost', JSON.stringify(first));
  assert.match(first.errorMessage, cutOff);
  return instance;
}

test('recreating a worker re-runs what it ran without using a retry', async () => {
  const { id: clusterId } = await clusterOf('OnDemand', 1);
  const { id, worker } = await running(clusterId);
  const res = await shoal.api('POST', `/clusters/${clusterId}/groups/group/instances/${worker}/recreate`);
  assert.equal(res.status, 201, res.text);
  const instance = await settled(id, new RegExp(`worker ${worker} was recreated`));
  // The same worker took it up again.
  assert.equal(instance.WorkerId, worker);
});

test('a reclaimed Spot worker’s attempt runs again on another worker, without using a retry', async () => {
  const { id: clusterId, workers } = await clusterOf('Spot', 2);
  const { id, worker } = await running(clusterId);
  const res = await shoal.api('DELETE', `/clusters/${clusterId}/groups/group/instances/${worker}`);
  assert.equal(res.status, 200, res.text);
  const instance = await settled(id, new RegExp(`Spot worker ${worker} was reclaimed`));
  assert.equal(
    instance.WorkerId,
    workers.find((w) => w !== worker),
  );
  // The reclaimed worker left the cluster.
  await until('the reclaimed worker gone', async () => {
    const vms = (await shoal.api('GET', `/clusters/${clusterId}/groups/group/instances`)).json.Items;
    return vms.length === 1 ? true : undefined;
  });
});
