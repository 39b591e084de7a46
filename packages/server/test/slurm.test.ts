/**
 * The `slurm` provider against a real slurmctld + slurmd (../shared/scripts/slurm-up.sh; `.ci/run`
 * brings one up): a task becomes one job array capped at the group's DesiredVMCount, stop cancels its
 * elements, and what Slurm does to elements behind Shoal's back (a cancel, a node failure, a refusal at
 * submit) becomes a retried or failed attempt with Slurm's words in it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { simpleJob, startTestShoal, testSlurmUnavailable, type TestShoal, until } from './helpers.js';

const noSlurm = testSlurmUnavailable();
let shoal: TestShoal | undefined;
let dataDir = '';

before(async () => {
  if (noSlurm) return;
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-slurm-test-'));
  const types = join(dataDir, 'types.json');
  await writeFile(
    types,
    JSON.stringify([
      // Small enough for many elements at once on the one test node.
      { InstanceType: 'test.small', CpuCore: 1, MemorySize: 0.5 },
      // More memory than any node has: sbatch refuses such an array.
      { InstanceType: 'test.huge', CpuCore: 1, MemorySize: 60_000 },
    ]),
  );
  shoal = await startTestShoal({ slots: 0, instanceTypesFile: types }, join(dataDir, 'data'));
});

/** Dispatchers of the clusters made here: what they left in Slurm is cancelled at the end. */
const dispatchers: string[] = [];

after(async () => {
  await shoal?.cleanup();
  for (const d of dispatchers) await slurm('scancel', [`--name=shoal.${d}`]).catch(() => undefined);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function slurm(tool: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(tool, args, (err, stdout, stderr) =>
      err ? reject(new Error(`${tool}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

/** A slurm cluster of one group; returns its id and its dispatcher (the group's one worker). */
async function slurmCluster(desired: number, instanceType = 'test.small') {
  const s = shoal!;
  const created = await s.api('POST', '/clusters', {
    Name: 'slurm-test',
    ImageId: 'img-ubuntu',
    InstanceType: instanceType,
    Provider: 'slurm',
    Groups: { group: { DesiredVMCount: desired } },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.Id as string;
  for (let i = 0; i < 300; i++) {
    const vms = await s.api('GET', `/clusters/${id}/groups/group/instances`);
    if (vms.json.Items.length === 1) {
      dispatchers.push(vms.json.Items[0].Id as string);
      return { id, dispatcher: vms.json.Items[0].Id as string };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`the dispatcher of slurm cluster ${id} never registered`);
}

interface Element {
  readonly arrayJobId: string;
  readonly index: string;
  readonly state: string;
  readonly reason: string;
}

async function elementsOf(dispatcher: string): Promise<Element[]> {
  const out = await slurm('squeue', ['-h', '-t', 'all', '-n', `shoal.${dispatcher}`, '-o', '%F|%K|%T|%r']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [arrayJobId, index, state, reason] = line.split('|');
      return { arrayJobId: arrayJobId!, index: index!, state: state!, reason: reason ?? '' };
    });
}

const onCluster = (clusterId: string, extra: Record<string, unknown> = {}) => ({
  ClusterId: clusterId,
  AutoCluster: {},
  ...extra,
});

test(
  'a task becomes one job array capped at DesiredVMCount; every instance runs once',
  { skip: noSlurm },
  async () => {
    const s = shoal!;
    const { id: clusterId, dispatcher } = await slurmCluster(2);
    const job = await s.api(
      'POST',
      '/jobs',
      simpleJob(
        `/bin/sh -c 'echo instance $BATCH_COMPUTE_DAG_INSTANCE_ID of $BATCH_COMPUTE_DAG_INSTANCE_COUNT'`,
        {
          ...onCluster(clusterId),
          InstanceCount: 5,
        },
      ),
    );
    assert.equal(job.status, 201, job.text);
    const done = await s.waitForJob(job.json.Id, undefined, 120_000);
    assert.equal(done.State, 'Finished', JSON.stringify(done));
    const elements = await elementsOf(dispatcher);
    const arrays = [...new Set(elements.map((e) => e.arrayJobId))];
    assert.equal(arrays.length, 1, JSON.stringify(elements));
    assert.deepEqual(elements.map((e) => e.index).sort(), ['0', '1', '2', '3', '4']);
    const shown = await slurm('scontrol', ['show', 'job', '-o', arrays[0]!]);
    assert.match(shown, /ArrayTaskThrottle=2\b/);
    for (let i = 0; i < 5; i++) {
      const log = await s.api('GET', `/jobs/${job.json.Id}/tasks/task/instances/${i}/log?stream=stdout`);
      assert.equal(log.text, `instance ${i} of 5\n`);
      const instance = await s.api('GET', `/jobs/${job.json.Id}/tasks/task/instances/${i}`);
      assert.equal(instance.json.RetryCount, 0);
      assert.equal(instance.json.WorkerId, dispatcher);
    }
  },
);

test('stopping the job cancels its elements in Slurm', { skip: noSlurm }, async () => {
  const s = shoal!;
  const { id: clusterId, dispatcher } = await slurmCluster(2);
  const job = await s.api(
    'POST',
    '/jobs',
    simpleJob('sleep 120', { ...onCluster(clusterId), InstanceCount: 2 }),
  );
  assert.equal(job.status, 201, job.text);
  await until('both elements running', async () => {
    const e = await elementsOf(dispatcher);
    return e.filter((x) => x.state === 'RUNNING').length === 2 ? e : undefined;
  });
  assert.ok((await s.api('POST', `/jobs/${job.json.Id}/stop`)).status < 300);
  assert.equal((await s.waitForJob(job.json.Id, ['Stopped'])).State, 'Stopped');
  const ended = await until('the elements cancelled', async () => {
    const e = await elementsOf(dispatcher);
    return e.every((x) => x.state === 'CANCELLED') ? e : undefined;
  });
  assert.equal(ended.length, 2);
});

test(
  'an element cancelled outside Shoal fails its attempt with the Slurm state; the retry finishes',
  { skip: noSlurm },
  async () => {
    const s = shoal!;
    const { id: clusterId, dispatcher } = await slurmCluster(1);
    const job = await s.api(
      'POST',
      '/jobs',
      simpleJob(`/bin/sh -c 'test "$BATCH_COMPUTE_DAG_INSTANCE_ID" = 0 && sleep 2'`, {
        ...onCluster(clusterId),
        MaxRetryCount: 1,
      }),
    );
    assert.equal(job.status, 201, job.text);
    const running = await until('the element running', async () =>
      (await elementsOf(dispatcher)).find((x) => x.state === 'RUNNING'),
    );
    await slurm('scancel', [`${running.arrayJobId}_${running.index}`]);
    const done = await s.waitForJob(job.json.Id, undefined, 60_000);
    assert.equal(done.State, 'Finished', JSON.stringify(done));
    const instance = await s.api('GET', `/jobs/${job.json.Id}/tasks/task/instances/0`);
    assert.equal(instance.json.RetryCount, 1, instance.text);
    const [first] = await s.store.listAttempts(job.json.Id, 'task', 0);
    assert.equal(first?.errorCode, 'SlurmFailure', JSON.stringify(first));
    assert.match(
      first.errorMessage,
      new RegExp(`^Slurm array element ${running.arrayJobId}_0 ended CANCELLED`),
    );
    // A second array ran the retry.
    assert.equal(new Set((await elementsOf(dispatcher)).map((e) => e.arrayJobId)).size, 2);
  },
);

test('a node failure re-runs the attempt without using a retry', { skip: noSlurm }, async () => {
  const s = shoal!;
  const { id: clusterId, dispatcher } = await slurmCluster(1);
  const job = await s.api(
    'POST',
    '/jobs',
    simpleJob('sleep 3', { ...onCluster(clusterId), MaxRetryCount: 0 }),
  );
  assert.equal(job.status, 201, job.text);
  await until('the element running', async () =>
    (await elementsOf(dispatcher)).find((x) => x.state === 'RUNNING'),
  );
  const node = (await slurm('sinfo', ['-h', '-N', '-o', '%N'])).trim().split('\n')[0]!;
  await slurm('scontrol', ['update', `NodeName=${node}`, 'State=DOWN', 'Reason=shoal-test']);
  await until('the element ended NODE_FAIL', async () =>
    (await elementsOf(dispatcher)).find((x) => x.state === 'NODE_FAIL'),
  );
  // The node comes back by itself (ReturnToService=2) or by RESUME.
  await slurm('scontrol', ['update', `NodeName=${node}`, 'State=RESUME']).catch(() => undefined);
  const done = await s.waitForJob(job.json.Id, undefined, 60_000);
  assert.equal(done.State, 'Finished', JSON.stringify(done));
  const instance = await s.api('GET', `/jobs/${job.json.Id}/tasks/task/instances/0`);
  assert.equal(instance.json.RetryCount, 0, instance.text);
  assert.equal(instance.json.AttemptCount, 2, instance.text);
  const [first] = await s.store.listAttempts(job.json.Id, 'task', 0);
  assert.equal(first?.state, 'Lost', JSON.stringify(first));
  assert.match(first.errorMessage, /ended NODE_FAIL/);
});

test("an array sbatch refuses fails its attempts with sbatch's reason", { skip: noSlurm }, async () => {
  const s = shoal!;
  const { id: clusterId } = await slurmCluster(1, 'test.huge');
  const job = await s.api('POST', '/jobs', simpleJob('true', onCluster(clusterId)));
  assert.equal(job.status, 201, job.text);
  const done = await s.waitForJob(job.json.Id, undefined, 60_000);
  assert.equal(done.State, 'Failed', JSON.stringify(done));
  const instance = await s.api('GET', `/jobs/${job.json.Id}/tasks/task/instances/0`);
  assert.equal(instance.json.Result.ErrorCode, 'SlurmFailure', instance.text);
  assert.match(instance.json.Result.ErrorMessage, /^sbatch refused the array: sbatch failed: /);
});

test('a deleted dispatcher starts over, and its cluster runs work again', { skip: noSlurm }, async () => {
  const s = shoal!;
  const { id: clusterId, dispatcher } = await slurmCluster(1);
  const res = await s.api('DELETE', `/clusters/${clusterId}/groups/group/instances/${dispatcher}`);
  assert.equal(res.status, 200, res.text);
  await until('the dispatcher back', async () => {
    const vms = (await s.api('GET', `/clusters/${clusterId}/groups/group/instances`)).json.Items;
    return vms.length === 1 && vms[0].State === 'Running' ? true : undefined;
  });
  const job = await s.api('POST', '/jobs', simpleJob('true', onCluster(clusterId)));
  assert.equal((await s.waitForJob(job.json.Id, undefined, 60_000)).State, 'Finished');
});
