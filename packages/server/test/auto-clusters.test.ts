/**
 * AutoCluster with AutoClusters on (`--auto-clusters local`): each task that names no cluster gets a
 * cluster of its own while it runs. What happens to that cluster when the task fails (ReserveOnFail),
 * and when its job is stopped and started again. The log-count job on AutoClusters is in log-count.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { sandboxSkip } from '@shoal/agent/testing';
import { simpleJob, startTestShoal, type TestShoal, until } from './helpers.js';

const noBwrap = existsSync('/usr/bin/bwrap') ? undefined : sandboxSkip('bubblewrap is not installed');
let shoal: TestShoal | undefined;

before(async () => {
  if (!noBwrap) shoal = await startTestShoal({ slots: 0, autoClusters: 'local', autoClusterMaxVMs: 2 });
});

after(async () => {
  await shoal?.cleanup();
});

type Cluster = { Id: string; Name: string; Groups: { group: { DesiredVMCount: number } } };

async function autoClustersOf(jobId: string): Promise<Cluster[]> {
  const items = (await shoal!.api('GET', '/clusters')).json.Items as Cluster[];
  return items.filter((c) => c.Name.startsWith(`auto.${jobId}.`));
}

const autoTask = (reserveOnFail: boolean, extra: Record<string, unknown> = {}) => ({
  AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'shoal.local', ReserveOnFail: reserveOnFail },
  ...extra,
});

test(
  'a failed task keeps its AutoCluster with ReserveOnFail, and releases it without',
  { skip: noBwrap },
  async () => {
    const s = shoal!;
    const kept = await s.api('POST', '/jobs', simpleJob('false', autoTask(true, { InstanceCount: 3 })));
    const released = await s.api('POST', '/jobs', simpleJob('false', autoTask(false)));
    assert.equal(kept.status, 201, kept.text);
    assert.equal((await s.waitForJob(kept.json.Id, undefined, 60_000)).State, 'Failed');
    assert.equal((await s.waitForJob(released.json.Id, undefined, 60_000)).State, 'Failed');
    await until('the AutoCluster without ReserveOnFail released', async () =>
      (await autoClustersOf(released.json.Id)).length === 0 ? true : undefined,
    );
    // Several rounds later the reserved one is still there, sized to the task (3 instances, at most 2 VMs).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const [cluster] = await autoClustersOf(kept.json.Id);
    assert.ok(cluster, 'the ReserveOnFail cluster was kept');
    assert.equal(cluster.Groups.group.DesiredVMCount, 2);
    // Its owner deletes it when done looking.
    assert.equal((await s.api('DELETE', `/clusters/${cluster.Id}`)).status, 200);
    assert.equal((await autoClustersOf(kept.json.Id)).length, 0);
  },
);

test(
  'a stopped job releases its AutoCluster; started again, it runs on a new one',
  { skip: noBwrap },
  async () => {
    const s = shoal!;
    const job = await s.api('POST', '/jobs', simpleJob('sleep 120', autoTask(false)));
    assert.equal(job.status, 201, job.text);
    const id = job.json.Id as string;
    /** The AutoCluster the instance runs on, once it does. */
    const runningOn = () =>
      until('the instance running on an AutoCluster', async () => {
        const [cluster] = await autoClustersOf(id);
        const instance = (await s.api('GET', `/jobs/${id}/tasks/task/instances/0`)).json;
        if (!cluster || instance.State !== 'Running') return undefined;
        const vms = await s.api('GET', `/clusters/${cluster.Id}/groups/group/instances`);
        return vms.json.Items.some((v: { Id: string }) => v.Id === instance.WorkerId)
          ? cluster.Id
          : undefined;
      });
    const stop = async () => {
      assert.ok((await s.api('POST', `/jobs/${id}/stop`)).status < 300);
      await s.waitForJob(id, ['Stopped']);
      await until('the AutoCluster released', async () =>
        (await autoClustersOf(id)).length === 0 ? true : undefined,
      );
    };
    const first = await runningOn();
    await stop();
    assert.equal((await s.api('GET', `/clusters/${first}`)).status, 404);
    assert.ok((await s.api('POST', `/jobs/${id}/start`)).status < 300);
    const second = await runningOn();
    assert.notEqual(second, first);
    await stop();
  },
);
