/**
 * Per-user quotas from the admin's file (`--quotas`): refused with 403 QuotaExceeded naming the limit
 * before anything is written, and shown to the user by GET /quotas with what is in use.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { simpleJob, startTestShoal, type TestShoal } from './helpers.js';

let shoal: TestShoal;
const dir = mkdtempSync(join(tmpdir(), 'shoal-quotas-'));

before(async () => {
  const file = join(dir, 'quotas.json');
  writeFileSync(
    file,
    JSON.stringify({
      Default: { Clusters: 0, Jobs: 2, TasksPerJob: 2, InstancesPerJob: 10, RunningInstances: 1 },
      // A user's entry overrides the default field by field.
      Users: { admin: { Clusters: 1 } },
    }),
  );
  shoal = await startTestShoal({ quotasFile: file, sandbox: 'off', slots: 2 }, join(dir, 'data'));
});

after(async () => {
  await shoal.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function refused(body: unknown, path: string, pattern: RegExp): Promise<void> {
  const jobsBefore = (await shoal.api('GET', '/jobs')).json.Items.length;
  const res = await shoal.api('POST', path, body);
  assert.equal(res.status, 403, res.text);
  assert.equal(res.json.Code, 'QuotaExceeded');
  assert.match(res.json.Message, pattern);
  assert.equal((await shoal.api('GET', '/jobs')).json.Items.length, jobsBefore);
}

test('quotas are enforced at submit and cluster creation, and shown with their use', async () => {
  let quota = (await shoal.api('GET', '/quotas')).json;
  assert.deepEqual(quota.Limits, {
    Clusters: 1,
    Jobs: 2,
    TasksPerJob: 2,
    InstancesPerJob: 10,
    RunningInstances: 1,
    CpuCores: null,
  });
  assert.deepEqual(quota.Usage, { Clusters: 0, Jobs: 0 });
  assert.deepEqual(quota.AvailableClusterInstanceType, ['shoal.local']);

  const one = simpleJob('true');
  const task = one.DAG.Tasks.task;
  const three = { ...one, DAG: { Tasks: { a: task, b: task, c: task }, Dependencies: {} } };
  await refused(three, '/jobs', /^Quota TasksPerJob \(2\) exceeded: the job has 3 tasks/);
  await refused(simpleJob('true', { InstanceCount: 11 }), '/jobs', /^Quota InstancesPerJob \(10\) exceeded/);

  const running = [];
  for (let i = 0; i < 2; i++) {
    const res = await shoal.api('POST', '/jobs', simpleJob('sleep 30'));
    assert.equal(res.status, 201, res.text);
    running.push(res.json.Id as string);
  }
  await refused(
    simpleJob('true'),
    '/jobs',
    /^Quota Jobs \(2\) exceeded: 2 of your jobs are Waiting or Running/,
  );

  const cluster = {
    Name: 'c',
    ImageId: 'img-ubuntu',
    InstanceType: 'shoal.local',
    Groups: { g: { DesiredVMCount: 0 } },
  };
  assert.equal((await shoal.api('POST', '/clusters', cluster)).status, 201);
  const second = await shoal.api('POST', '/clusters', cluster);
  assert.equal(second.status, 403, second.text);
  assert.match(second.json.Message, /^Quota Clusters \(1\) exceeded: you own 1 clusters/);

  quota = (await shoal.api('GET', '/quotas')).json;
  assert.deepEqual(quota.Usage, { Clusters: 1, Jobs: 2 });
  // An ended job frees its place, and its running slot: the second job starts.
  assert.ok((await shoal.api('POST', `/jobs/${running[0]}/stop`)).status < 300);
  await shoal.waitForJob(running[0]!, ['Stopped']);
  await shoal.waitForJob(running[1]!, ['Running']);
  assert.equal((await shoal.api('POST', '/jobs', simpleJob('true'))).status, 201);
  assert.ok((await shoal.api('POST', `/jobs/${running[1]}/stop`)).status < 300);
});
