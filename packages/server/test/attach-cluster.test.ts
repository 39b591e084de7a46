/**
 * AttachCluster (seed 002): a task names an existing cluster in AutoCluster.ClusterId and joins it. An
 * elastic group (MaxVMCount) grows with the demand of such tasks, up to its maximum, and shrinks back to
 * its DesiredVMCount once idle; here with the local provider (agents the server starts).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { sandboxSkip } from '@shoal/agent/testing';
import { simpleJob, startTestShoal, type TestShoal, until } from './helpers.js';

const noBwrap = existsSync('/usr/bin/bwrap') ? undefined : sandboxSkip('bubblewrap is not installed');
let shoal: TestShoal | undefined;

before(async () => {
  if (!noBwrap) shoal = await startTestShoal({ slots: 0, elasticIdleMs: 1500 });
});

after(async () => {
  await shoal?.cleanup();
});

const attach = (clusterId: string, extra: Record<string, unknown> = {}) => ({
  AutoCluster: { ClusterId: clusterId },
  ...extra,
});

test(
  'an elastic cluster grows with the tasks attached to it, runs them, and shrinks when idle',
  { skip: noBwrap },
  async () => {
    const s = shoal!;
    const created = await s.api('POST', '/clusters', {
      Name: 'elastic',
      ImageId: 'img-ubuntu',
      InstanceType: 'shoal.local',
      Provider: 'local',
      Groups: { group: { DesiredVMCount: 0, MaxVMCount: 2 } },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.json.Id as string;
    const group = async () => (await s.api('GET', `/clusters/${id}`)).json.Groups.group;
    assert.deepEqual(
      (({ DesiredVMCount, ActualVMCount, MinVMCount, MaxVMCount }) => ({
        DesiredVMCount,
        ActualVMCount,
        MinVMCount,
        MaxVMCount,
      }))(await group()),
      { DesiredVMCount: 0, ActualVMCount: 0, MinVMCount: 0, MaxVMCount: 2 },
    );

    const job = await s.api('POST', '/jobs', simpleJob('sleep 1', attach(id, { InstanceCount: 4 })));
    assert.equal(job.status, 201, job.text);
    await until('the group grown to 2 workers', async () => {
      const g = await group();
      return g.DesiredVMCount === 2 && g.ActualVMCount === 2 ? g : undefined;
    });
    const done = await s.waitForJob(job.json.Id, undefined, 60_000);
    assert.equal(done.State, 'Finished', JSON.stringify(done));
    const vms = await s.api('GET', `/clusters/${id}/groups/group/instances`);
    const workers = new Set(vms.json.Items.map((v: { Id: string }) => v.Id));
    const instances = await s.api('GET', `/jobs/${job.json.Id}/tasks/task/instances`);
    for (const i of instances.json.Items)
      assert.ok(workers.has(i.WorkerId), `${i.InstanceId} ran on ${i.WorkerId}`);

    await until('the group shrunk back to 0 once idle', async () => {
      const g = await group();
      return g.DesiredVMCount === 0 && g.ActualVMCount === 0 ? g : undefined;
    });
  },
);

test('AttachCluster and MaxVMCount are checked, naming the field', { skip: noBwrap }, async () => {
  const s = shoal!;
  const missing = await s.api('POST', '/jobs', simpleJob('true', attach('cls-nosuch')));
  assert.equal(missing.status, 400, missing.text);
  assert.match(missing.json.Message, /DAG\.Tasks\.task\.AutoCluster\.ClusterId/);
  const bad = await s.api('POST', '/clusters', {
    Name: 'bad',
    ImageId: 'img-ubuntu',
    InstanceType: 'shoal.local',
    Groups: { group: { DesiredVMCount: 3, MaxVMCount: 2 } },
  });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.json.Message, /Groups\.group\.MaxVMCount .*must be at least DesiredVMCount \(3\)/);
});
