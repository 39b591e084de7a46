/**
 * Why is it waiting? Each kind of PendingReason, as GET shows it on Waiting tasks and instances:
 * predecessors, no live worker, the task's concurrency cap, the owner's running quota, and the queue
 * with each instance's place in it; on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestPostgres, type TestPostgres } from '@shoal/store/testing';
import { simpleJob, startTestShoal, taskDescription, type TestShoal, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-pending-'));
async function submit(s: TestShoal, body: unknown): Promise<string> {
  const res = await s.api('POST', '/jobs', body);
  assert.equal(res.status, 201, res.text);
  return res.json.Id as string;
}

const running = (s: TestShoal, id: string, n = 1) =>
  until(`${n} running in ${id}`, async () =>
    (await s.api('GET', `/jobs/${id}`)).json.InstanceMetrics.RunningCount >= n ? true : undefined,
  );

let pg: TestPostgres | undefined;

after(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

for (const backend of ['sqlite', 'postgres'] as const)
  describe(`on ${backend}`, () => {
    const base = join(dir, backend);
    /** The server option that puts it on this backend. */
    const db = async () =>
      backend === 'postgres'
        ? {
            databaseUrl: await (pg ??= await startTestPostgres(
              process.env.SHOAL_TEST_DATABASE_URL,
            )).createDatabase(),
          }
        : {};
    let quota: TestShoal;
    let queue: TestShoal;

    before(async () => {
      mkdirSync(base, { recursive: true });
      const file = join(base, 'quotas.json');
      writeFileSync(file, JSON.stringify({ Default: { RunningInstances: 2 } }));
      quota = await startTestShoal(
        { slots: 3, sandbox: 'off', quotasFile: file, ...(await db()) },
        join(base, 'quota'),
      );
      queue = await startTestShoal({ slots: 1, sandbox: 'off', ...(await db()) }, join(base, 'queue'));
    });

    after(async () => {
      await quota.cleanup();
      await queue.cleanup();
    });

    it('predecessors, no worker and the running quota, each named', async () => {
      const s = quota;
      const first = await submit(s, simpleJob('sleep 30'));
      const dag = simpleJob('sleep 30');
      const chained = await submit(s, {
        ...dag,
        DAG: {
          Tasks: { a: taskDescription('sleep 30'), b: taskDescription('true') },
          Dependencies: { a: ['b'] },
        },
      });
      await running(s, first);
      await running(s, chained);
      const b = (await s.api('GET', `/jobs/${chained}/tasks/b`)).json;
      assert.deepEqual(b.PendingReason, {
        Code: 'WaitingForTasks',
        Message: 'waiting for task a to finish',
        Tasks: ['a'],
      });

      // Two of the admin's instances run: a third waits for the quota, though a slot is free.
      const third = await submit(s, simpleJob('true'));
      const reason = await until('the quota reason', async () => {
        const r = (await s.api('GET', `/jobs/${third}/tasks/task/instances/0`)).json.PendingReason;
        return r?.Code === 'QuotaRunningInstances' ? r : undefined;
      });
      assert.match(reason.Message, /your quota RunningInstances \(2\) is reached/);

      const cluster = await s.api('POST', '/clusters', {
        Name: 'empty',
        ImageId: 'img-ubuntu',
        InstanceType: 'shoal.local',
        Groups: { group: { DesiredVMCount: 1 } },
      });
      const clusterId = cluster.json.Id as string;
      const stranded = await submit(s, simpleJob('true', { ClusterId: clusterId, AutoCluster: {} }));
      const task = (await s.api('GET', `/jobs/${stranded}/tasks/task`)).json;
      assert.deepEqual(task.PendingReason, {
        Code: 'NoWorker',
        Message: `no worker of cluster ${clusterId} is running to take it`,
        ClusterId: clusterId,
      });
      // A running instance has no reason.
      assert.equal(
        (await s.api('GET', `/jobs/${first}/tasks/task/instances/0`)).json.PendingReason,
        undefined,
      );
      for (const id of [first, chained, third, stranded]) await s.api('POST', `/jobs/${id}/stop`);
    });

    it('the concurrency cap, and each queued instance’s place in the queue', async () => {
      const s = queue;
      const capped = await submit(s, simpleJob('sleep 30', { InstanceCount: 3, MaxRunningInstances: 1 }));
      await running(s, capped);
      const behind = await submit(s, simpleJob('sleep 30', { InstanceCount: 2 }));
      const at = async (id: string, i: number) =>
        (await s.api('GET', `/jobs/${id}/tasks/task/instances/${i}`)).json.PendingReason;
      assert.deepEqual(await at(capped, 1), {
        Code: 'TaskConcurrencyCap',
        Message: 'the task already runs its MaxRunningInstances (1)',
      });
      const cls = 'cls-local';
      assert.deepEqual(await at(behind, 0), {
        Code: 'Queued',
        Message: `queued on ${cls} behind 2 instances of higher priority or submitted earlier`,
        ClusterId: cls,
        QueuePosition: 3,
      });
      assert.equal((await at(behind, 1)).QueuePosition, 4);
      // The list shows each waiting instance's own place, as GET of the instance does.
      const listed = (await s.api('GET', `/jobs/${behind}/tasks/task/instances`)).json.Items;
      assert.deepEqual(
        listed.map((i: { PendingReason?: { Code: string; QueuePosition?: number } }) => [
          i.PendingReason?.Code,
          i.PendingReason?.QueuePosition,
        ]),
        [
          ['Queued', 3],
          ['Queued', 4],
        ],
      );
      assert.deepEqual(listed[0].PendingReason, await at(behind, 0));
      for (const id of [capped, behind]) await s.api('POST', `/jobs/${id}/stop`);
    });

    it('a retry waits out RetryStrategy.BackoffSeconds, and says so', async () => {
      const s = queue;
      const started = Date.now();
      const id = await submit(
        s,
        simpleJob(`/bin/sh -c 'exit 4'`, { MaxRetryCount: 1, RetryStrategy: { BackoffSeconds: 2 } }),
      );
      const reason = await until('the backoff reason', async () => {
        const r = (await s.api('GET', `/jobs/${id}/tasks/task/instances/0`)).json.PendingReason;
        return r?.Code === 'RetryBackoff' ? r : undefined;
      });
      assert.match(reason.Message, /runs again in [12] s/);
      assert.equal((await s.waitForJob(id, undefined, 30_000)).State, 'Failed');
      assert.ok(Date.now() - started >= 2000, 'the retry ran only after the backoff');
      assert.equal((await s.api('GET', `/jobs/${id}/tasks/task/instances/0`)).json.RetryCount, 1);
    });

    it('the CPU cores quota, named with what runs', async () => {
      const file = join(base, 'cpu.json');
      writeFileSync(file, JSON.stringify({ Default: { CpuCores: 1 } }));
      const types = join(base, 'types.json');
      writeFileSync(
        types,
        JSON.stringify([{ InstanceType: 'test.three-quarters', CpuCore: 0.75, MemorySize: 0.25 }]),
      );
      const s = await startTestShoal(
        { slots: 2, sandbox: 'off', quotasFile: file, instanceTypesFile: types, ...(await db()) },
        join(base, 'cpu'),
      );
      // Two of 0.75 cores would take 1.5 of the user's 1.
      const auto = { AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'test.three-quarters' } };
      try {
        const first = await submit(s, simpleJob('sleep 30', auto));
        await running(s, first);
        const second = await submit(s, simpleJob('true', auto));
        const reason = await until('the CPU quota reason', async () => {
          const r = (await s.api('GET', `/jobs/${second}/tasks/task/instances/0`)).json.PendingReason;
          return r?.Code === 'QuotaCpuCores' ? r : undefined;
        });
        assert.equal(reason.Message, 'your quota CpuCores (1) is reached: 0.75 cores run now');
        await s.api('POST', `/jobs/${first}/stop`);
        assert.equal((await s.waitForJob(second)).State, 'Finished');
      } finally {
        await s.cleanup();
      }
    });
  });
