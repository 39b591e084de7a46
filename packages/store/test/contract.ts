/**
 * The Store contract: every adapter must pass this suite unchanged (SQLite and PostgreSQL).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttemptResult, Store, TaskSpec } from '@shoal/core';
import { DEFAULT_CLUSTER_ID } from '@shoal/core';
import { accountsContract } from './contract-accounts.js';
import { clustersContract } from './contract-clusters.js';
import { failed, jobId, logCountSpec, ok, singleTaskSpec, taskSpec } from './fixtures.js';

export type StoreFactory = () => Promise<Store>;
/** Two handles on one database (two servers sharing it). */
export type StorePairFactory = () => Promise<[Store, Store]>;

const LEASE = 60_000_000;

async function submit(
  store: Store,
  spec = logCountSpec(),
  token: string | null = null,
  now = 1000,
): Promise<string> {
  const id = jobId();
  const result = await store.createJob(
    { id, ownerId: 1, spec, descriptionJson: JSON.stringify({ Name: spec.name }), idempotentToken: token },
    now,
  );
  return result.id;
}

async function runAll(store: Store, worker = 'w1', now = 2000): Promise<string[]> {
  const order: string[] = [];
  for (;;) {
    const claimed = await store.claimAttempts(worker, 10, now, now + LEASE);
    if (claimed.length === 0) return order;
    order.push(...claimed.map((c) => `${c.taskName}.${c.instanceId}`));
    await store.finishAttempts(
      worker,
      claimed.map((c) => ok(c.attemptId)),
      now + 1,
    );
  }
}

/** `openPair` is omitted for backends that serve a single server process (SQLite). */
/** The workers the contract's tests claim as (w0..w9), registered in the default cluster. */
async function withWorkers(store: Store): Promise<Store> {
  for (let i = 0; i < 10; i++)
    await store.registerWorker(
      { id: `w${i}`, clusterId: DEFAULT_CLUSTER_ID, groupName: 'group', hostname: 'h', slots: 1 },
      0,
    );
  return store;
}

export function storeContract(name: string, openBare: StoreFactory, openPairBare?: StorePairFactory): void {
  const open = async () => withWorkers(await openBare());
  const openPair = openPairBare
    ? async (): Promise<[Store, Store]> => {
        const [a, b] = await openPairBare();
        return [await withWorkers(a), b];
      }
    : undefined;
  describe(`Store contract: ${name}`, () => {
    it('creates a job with every task and instance Waiting, and keeps the description verbatim', async () => {
      const store = await open();
      const id = await submit(store);
      const job = await store.getJob(id);
      assert.equal(job?.state, 'Waiting');
      assert.deepEqual(job?.taskCounts, { waiting: 3, running: 0, finished: 0, failed: 0, stopped: 0 });
      assert.deepEqual(job?.instanceCounts, { waiting: 5, running: 0, finished: 0, failed: 0, stopped: 0 });
      assert.equal(job?.startedAtUs, null);
      const count = await store.getTask(id, 'count');
      assert.equal(count?.instanceCount, 3);
      assert.deepEqual(count?.predecessors, ['split']);
      assert.equal(count?.spec.instanceCount, 3);
      const instances = await store.listInstances(id, 'count', { limit: 10 });
      assert.deepEqual(
        instances.items.map((i) => [i.instanceId, i.state]),
        [
          [0, 'Waiting'],
          [1, 'Waiting'],
          [2, 'Waiting'],
        ],
      );
      assert.equal(await store.getJobDescription(id), JSON.stringify({ Name: 'log-count' }));
      await store.close();
    });

    it('de-duplicates creates by IdempotentToken per owner', async () => {
      const store = await open();
      const a = await submit(store, logCountSpec(), 'tok-1');
      const second = await store.createJob(
        { id: jobId(), ownerId: 1, spec: logCountSpec(), descriptionJson: '{}', idempotentToken: 'tok-1' },
        5,
      );
      assert.deepEqual(second, { id: a, created: false });
      const other = await store.createJob(
        { id: jobId(), ownerId: 2, spec: logCountSpec(), descriptionJson: '{}', idempotentToken: 'tok-1' },
        5,
      );
      assert.equal(other.created, true);
      await store.close();
    });

    it('resolves concurrent creates with one IdempotentToken to one job', async () => {
      const store = await open();
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          store.createJob(
            { id: jobId(), ownerId: 7, spec: logCountSpec(), descriptionJson: '{}', idempotentToken: 'race' },
            1,
          ),
        ),
      );
      assert.equal(new Set(results.map((r) => r.id)).size, 1);
      assert.equal(results.filter((r) => r.created).length, 1);
      await store.close();
    });

    it('runs a DAG in dependency order and settles tasks and the job', async () => {
      const store = await open();
      const id = await submit(store);
      const first = await store.claimAttempts('w1', 10, 2000, 2000 + LEASE);
      assert.deepEqual(
        first.map((c) => c.taskName),
        ['split'],
        'only the root task is runnable',
      );
      assert.equal(first[0]!.attemptNo, 1);
      assert.equal(first[0]!.task.commandLine, '/bin/true');
      const running = await store.getJob(id);
      assert.equal(running?.state, 'Running');
      assert.equal(running?.startedAtUs, 2000);
      assert.equal((await store.getTask(id, 'split'))?.state, 'Running');
      await store.finishAttempts('w1', [ok(first[0]!.attemptId)], 2100);
      assert.equal((await store.getTask(id, 'split'))?.state, 'Finished');
      const order = await runAll(store);
      assert.deepEqual(order, ['count.0', 'count.1', 'count.2', 'merge.0']);
      const done = await store.getJob(id);
      assert.equal(done?.state, 'Finished');
      assert.deepEqual(done?.instanceCounts, { waiting: 0, running: 0, finished: 5, failed: 0, stopped: 0 });
      assert.ok(done?.endedAtUs);
      const events = (await store.listEvents(0, 1000)).filter((e) => e.jobId === id);
      const jobEvents = events.filter((e) => e.type.startsWith('OnJob')).map((e) => e.type);
      assert.deepEqual(jobEvents, ['OnJobWaiting', 'OnJobRunning', 'OnJobFinished']);
      assert.equal(events.filter((e) => e.type === 'OnInstanceFinished').length, 5);
      await store.close();
    });

    it("dispatches higher priority first and FIFO among equals, without starving a big job's later tasks", async () => {
      const store = await open();
      const big = await submit(store, logCountSpec({ name: 'big' }), null, 1);
      const low = await submit(store, singleTaskSpec('low', { instanceCount: 2 }, { priority: 1 }), null, 2);
      const high = await submit(store, singleTaskSpec('high', {}, { priority: 9 }), null, 3);
      const claimed = await store.claimAttempts('w1', 3, 10, 10 + LEASE);
      assert.deepEqual(
        claimed.map((c) => c.jobId),
        [high, big, low],
      );
      // big's later tasks, released after `low` was submitted, still come before low's remaining work.
      await store.finishAttempts(
        'w1',
        claimed.map((c) => ok(c.attemptId)),
        20,
      );
      const next = await store.claimAttempts('w1', 4, 30, 30 + LEASE);
      assert.deepEqual(
        next.map((c) => `${c.jobId === big ? 'big' : 'low'}.${c.taskName}`),
        ['big.count', 'big.count', 'big.count', 'low.task'],
      );
      await store.close();
    });

    it('re-orders queued work when the priority changes', async () => {
      const store = await open();
      const a = await submit(store, singleTaskSpec('a'), null, 1);
      const b = await submit(store, singleTaskSpec('b'), null, 2);
      await store.changeJobPriority(b, 50, 3);
      const claimed = await store.claimAttempts('w1', 2, 10, 10 + LEASE);
      assert.deepEqual(
        claimed.map((c) => c.jobId),
        [b, a],
      );
      assert.equal((await store.getJob(b))?.priority, 50);
      assert.ok(
        (await store.listEvents(0, 1000)).some((e) => e.type === 'OnPriorityChange' && e.jobId === b),
      );
      await store.close();
    });

    it('retries a failed attempt MaxRetryCount times, then fails the job and stops the rest', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('r', { instanceCount: 2, maxRetryCount: 1 }));
      let claimed = await store.claimAttempts('w1', 1, 10, 10 + LEASE);
      await store.finishAttempts('w1', [failed(claimed[0]!.attemptId)], 11);
      let inst = await store.getInstance(id, 'task', 0);
      assert.equal(inst?.state, 'Waiting');
      assert.equal(inst?.retryCount, 1);
      assert.equal(inst?.exitCode, 3);
      claimed = await store.claimAttempts('w1', 1, 13, 13 + LEASE);
      assert.deepEqual(
        [claimed[0]!.instanceId, claimed[0]!.attemptNo],
        [0, 2],
        'a retry keeps its place in the task',
      );
      await store.finishAttempts('w1', [failed(claimed[0]!.attemptId, 4)], 14);
      inst = await store.getInstance(id, 'task', 0);
      assert.equal(inst?.state, 'Failed');
      assert.equal(inst?.errorCode, 'NonZeroExitCode');
      const job = await store.getJob(id);
      assert.equal(job?.state, 'Failed');
      assert.match(job?.message ?? '', /task\.0 failed: command exited with code 4/);
      assert.equal((await store.getInstance(id, 'task', 1))?.state, 'Stopped');
      assert.equal((await store.getTask(id, 'task'))?.state, 'Failed');
      const attempts = await store.listAttempts(id, 'task', 0);
      assert.deepEqual(
        attempts.map((a) => [a.attemptNo, a.state, a.exitCode]),
        [
          [1, 'Failed', 3],
          [2, 'Failed', 4],
        ],
      );
      await store.close();
    });

    it('with JobFailOnInstanceFail=false the task and job carry on and failures stay visible', async () => {
      const store = await open();
      const id = await submit(store, logCountSpec({ jobFailOnInstanceFail: false }));
      let claimed = await store.claimAttempts('w1', 1, 10, 10 + LEASE);
      await store.finishAttempts('w1', [ok(claimed[0]!.attemptId)], 11);
      claimed = await store.claimAttempts('w1', 3, 12, 12 + LEASE);
      await store.finishAttempts(
        'w1',
        [failed(claimed[0]!.attemptId), ok(claimed[1]!.attemptId), ok(claimed[2]!.attemptId)],
        13,
      );
      const count = await store.getTask(id, 'count');
      assert.equal(count?.state, 'Finished');
      assert.equal(count?.counts.failed, 1);
      await runAll(store);
      const job = await store.getJob(id);
      assert.equal(job?.state, 'Finished');
      assert.equal(job?.instanceCounts.failed, 1);
      await store.close();
    });

    it('stop withdraws queued work and cancels running attempts; start re-runs what did not finish', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('s', { instanceCount: 3 }));
      const claimed = await store.claimAttempts('w1', 1, 10, 10 + LEASE);
      await store.stopJob(id, 20);
      const stopped = await store.getJob(id);
      assert.equal(stopped?.state, 'Stopped');
      assert.deepEqual(stopped?.instanceCounts, {
        waiting: 0,
        running: 0,
        finished: 0,
        failed: 0,
        stopped: 3,
      });
      assert.deepEqual(await store.renewLeases('w1', [claimed[0]!.attemptId], 21, 21 + LEASE), [
        claimed[0]!.attemptId,
      ]);
      assert.deepEqual(await store.claimAttempts('w1', 5, 22, 22 + LEASE), []);
      // The killed attempt reports late: history only.
      await store.finishAttempts('w1', [{ ...failed(claimed[0]!.attemptId), errorCode: 'Stopped' }], 23);
      assert.equal((await store.getInstance(id, 'task', 0))?.state, 'Stopped');
      await assert.rejects(store.stopJob(id, 24), { code: 'StateConflict' });
      await store.startJob(id, 30);
      assert.equal((await store.getJob(id))?.state, 'Waiting');
      assert.equal((await runAll(store)).length, 3);
      const done = await store.getJob(id);
      assert.equal(done?.state, 'Finished');
      assert.equal((await store.getInstance(id, 'task', 0))?.attemptCount, 2);
      await store.close();
    });

    it('restart of a stopped DAG keeps finished tasks and re-queues only runnable ones', async () => {
      const store = await open();
      const id = await submit(store);
      const split = await store.claimAttempts('w1', 1, 10, 10 + LEASE);
      await store.finishAttempts('w1', [ok(split[0]!.attemptId)], 11);
      await store.stopJob(id, 12);
      await store.startJob(id, 13);
      const order = await runAll(store);
      assert.deepEqual(order, ['count.0', 'count.1', 'count.2', 'merge.0']);
      assert.equal((await store.getJob(id))?.state, 'Finished');
      await store.close();
    });

    it('re-queues work of a lost worker without consuming a retry', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('l', { instanceCount: 2, maxRetryCount: 0 }));
      const claimed = await store.claimAttempts('w1', 1, 10, 100);
      const other = await store.claimAttempts('w2', 1, 10, 10_000);
      assert.equal(await store.expireLeases(50), 0);
      assert.equal(await store.expireLeases(150), 1);
      let inst = await store.getInstance(id, 'task', claimed[0]!.instanceId);
      assert.equal(inst?.state, 'Waiting');
      assert.equal(inst?.retryCount, 0);
      const attempts = await store.listAttempts(id, 'task', claimed[0]!.instanceId);
      assert.equal(attempts[0]?.state, 'Lost');
      assert.deepEqual(await store.releaseWorkerAttempts('w2', 200), [other[0]!.attemptId]);
      inst = await store.getInstance(id, 'task', other[0]!.instanceId);
      assert.equal(inst?.state, 'Waiting');
      // The lost worker's late report must not finish the re-queued instance.
      await store.finishAttempts('w1', [ok(claimed[0]!.attemptId)], 210);
      assert.equal((await store.getInstance(id, 'task', claimed[0]!.instanceId))?.state, 'Waiting');
      assert.equal((await runAll(store, 'w3', 300)).length, 2);
      assert.equal((await store.getJob(id))?.state, 'Finished');
      await store.close();
    });

    it('re-queues chosen attempts of a worker, with the reason, without consuming a retry', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('r', { instanceCount: 3, maxRetryCount: 0 }));
      const claimed = await store.claimAttempts('w1', 3, 10, 10_000);
      const [first, second, third] = claimed.map((c) => c.attemptId);
      // Not this worker's, or not an attempt at all: nothing happens.
      assert.deepEqual(await store.releaseAttempts('w2', [first!], 20, 'x'), []);
      assert.deepEqual(await store.releaseAttempts('w1', ['nonsense', first!], 20, 'node failed'), [first]);
      const inst = await store.getInstance(id, 'task', claimed[0]!.instanceId);
      assert.equal(inst?.state, 'Waiting');
      assert.equal(inst?.retryCount, 0);
      const attempts = await store.listAttempts(id, 'task', claimed[0]!.instanceId);
      assert.equal(attempts[0]?.state, 'Lost');
      assert.equal(attempts[0]?.errorMessage, 'node failed');
      // The others are still held.
      assert.deepEqual(await store.renewLeases('w1', [second!, third!], 30, 10_000), []);
      await store.finishAttempts('w1', [ok(second!), ok(third!)], 40);
      assert.equal((await runAll(store, 'w3', 300)).length, 1);
      assert.equal((await store.getJob(id))?.state, 'Finished');
      await store.close();
    });

    it('leaves queued what a task cap or an owner quota does not admit, and claims past it', async () => {
      const store = await open();
      const capped = await submit(store, singleTaskSpec('cap', { instanceCount: 5, maxRunningInstances: 2 }));
      const behind = await submit(store, singleTaskSpec('behind', { instanceCount: 2 }));
      let claimed = await store.claimAttempts('w1', 10, 10, 10 + LEASE);
      // Two of the capped task, then past its three others to the job behind it.
      assert.deepEqual(
        claimed.map((c) => c.jobId),
        [capped, capped, behind, behind],
      );
      assert.equal((await store.claimAttempts('w1', 10, 11, 11 + LEASE)).length, 0);
      await store.finishAttempts('w1', [ok(claimed[0]!.attemptId)], 12);
      claimed = await store.claimAttempts('w1', 10, 13, 13 + LEASE);
      assert.deepEqual(
        claimed.map((c) => [c.jobId, c.instanceId]),
        [[capped, 2]],
      );
      // An owner at their running quota gets nothing more; others' work is claimed past theirs.
      const mine = await submit(store, singleTaskSpec('mine', { instanceCount: 3 }));
      await store.createJob(
        {
          id: 'job-other',
          ownerId: 2,
          spec: singleTaskSpec('other'),
          descriptionJson: '{}',
          idempotentToken: null,
        },
        14,
      );
      const limits = { runningPerOwner: (owner: number) => (owner === 1 ? 4 : undefined) };
      claimed = await store.claimAttempts('w1', 10, 15, 15 + LEASE, limits);
      // Owner 1 runs 2 (capped) + 2 (behind) already... and is at 4: only owner 2's instance is claimed.
      assert.deepEqual(
        claimed.map((c) => c.jobId),
        ['job-other'],
      );
      assert.equal((await store.getTask(mine, 'task'))?.counts.waiting, 3);
      await store.close();
    });

    it('claims only what fits the worker’s machine, in order, and within the owner’s CPU quota', async () => {
      const store = await open();
      const cpu: Record<string, number> = { huge: 3000, big: 1500, small: 500 };
      const limits = {
        runningPerOwner: () => undefined,
        demandOf: (task: TaskSpec) => ({ cpuMillis: cpu[task.name]!, memoryBytes: 1 }),
      };
      const job = (name: string, n: number) =>
        submit(store, {
          ...singleTaskSpec(name),
          tasks: [taskSpec(name, { instanceCount: n })],
          predecessors: { [name]: [] },
        });
      const huge = await job('huge', 1);
      const big = await job('big', 2);
      const small = await job('small', 2);
      await store.registerWorker(
        {
          id: 'wc',
          clusterId: DEFAULT_CLUSTER_ID,
          groupName: '',
          hostname: 'h',
          slots: 8,
          cpuMillis: 2000,
          memoryBytes: 10,
        },
        5,
      );
      const take = (at: number) => store.claimAttempts('wc', 10, at, at + LEASE, limits);
      // huge never fits 2 cores: passed over. One big fits; the second does not yet, and nothing passes it.
      let claimed = await take(10);
      assert.deepEqual(
        claimed.map((c) => c.jobId),
        [big],
      );
      await store.finishAttempts('wc', [ok(claimed[0]!.attemptId)], 11);
      claimed = await take(12);
      assert.deepEqual(
        claimed.map((c) => c.jobId),
        [big, small],
      );
      assert.equal((await store.getTask(huge, 'huge'))?.counts.waiting, 1);
      // Without a capacity said, the same worker takes what its slots allow.
      await store.registerWorker(
        { id: 'wn', clusterId: DEFAULT_CLUSTER_ID, groupName: '', hostname: 'h', slots: 8 },
        13,
      );
      claimed = await store.claimAttempts('wn', 10, 14, 14 + LEASE, limits);
      assert.deepEqual(claimed.map((c) => c.jobId).sort(), [huge, small].sort());
      // An owner CPU quota: owner 1 already runs 1500 + 500 + 3000 + 500 = 5500 of a 6000 limit.
      const more = await job('small', 2);
      claimed = await store.claimAttempts('wn', 10, 15, 15 + LEASE, { ...limits, cpuPerOwner: () => 6000 });
      assert.deepEqual(
        claimed.map((c) => c.jobId),
        [more],
      );
      await store.close();
    });

    it('applies a task’s retry rules: EXIT fails at once, RETRY retries, others use MaxRetryCount', async () => {
      const store = await open();
      const retryRules = [
        { onExitCode: '2', action: 'EXIT' as const },
        { onErrorCode: 'Timeout', action: 'RETRY' as const },
      ];
      const id = await submit(
        store,
        singleTaskSpec(
          'rules',
          { instanceCount: 3, maxRetryCount: 1, retryRules },
          { jobFailOnInstanceFail: false },
        ),
      );
      const claimed = await store.claimAttempts('w1', 3, 10, 10 + LEASE);
      const exit = (attemptId: string, code: number | null, errorCode: AttemptResult['errorCode']) => ({
        ...failed(attemptId),
        exitCode: code,
        errorCode,
      });
      await store.finishAttempts(
        'w1',
        [
          exit(claimed[0]!.attemptId, 2, 'NonZeroExitCode'),
          exit(claimed[1]!.attemptId, null, 'Timeout'),
          exit(claimed[2]!.attemptId, 5, 'NonZeroExitCode'),
        ],
        20,
      );
      const state = async (i: number) => (await store.getInstance(id, 'task', claimed[i]!.instanceId))?.state;
      assert.equal(await state(0), 'Failed');
      assert.equal(await state(1), 'Waiting');
      assert.equal(await state(2), 'Waiting');
      await store.close();
    });

    it('tells a queued instance’s place in its cluster’s queue, and an owner’s running count', async () => {
      const store = await open();
      const early = await submit(store, singleTaskSpec('early', { instanceCount: 3 }));
      const late = await submit(store, singleTaskSpec('late', { instanceCount: 2 }));
      const urgent = await submit(store, singleTaskSpec('urgent', { instanceCount: 1 }, { priority: 9 }));
      assert.deepEqual(await store.queuePosition(urgent, 'task', 0, 100), {
        clusterId: DEFAULT_CLUSTER_ID,
        ahead: 0,
        notBeforeUs: 0,
      });
      assert.deepEqual(await store.queuePosition(early, 'task', 2, 100), {
        clusterId: DEFAULT_CLUSTER_ID,
        ahead: 3,
        notBeforeUs: 0,
      });
      assert.deepEqual(await store.queuePosition(late, 'task', undefined, 100), {
        clusterId: DEFAULT_CLUSTER_ID,
        ahead: 4,
        notBeforeUs: 0,
      });
      // Summed over `cap` queue rows only (urgent's and early's, whose fresh range counts 3): past the
      // cap the figure is a lower bound.
      assert.deepEqual(await store.queuePosition(late, 'task', 1, 2), {
        clusterId: DEFAULT_CLUSTER_ID,
        ahead: 5,
        notBeforeUs: 0,
      });
      await store.claimAttempts('w1', 2, 10, 10 + LEASE);
      assert.equal(await store.queuePosition(urgent, 'task', 0, 100), undefined);
      assert.deepEqual(await store.queuePosition(early, 'task', 2, 100), {
        clusterId: DEFAULT_CLUSTER_ID,
        ahead: 1,
        notBeforeUs: 0,
      });
      assert.equal(await store.ownerRunningCount(1), 2);
      assert.equal(await store.ownerRunningCount(2), 0);
      await store.close();
    });

    it('shares claims between owners at one priority: the fewest running first', async () => {
      const store = await open();
      const big = await submit(store, singleTaskSpec('big', { instanceCount: 100 }));
      await store.createJob(
        {
          id: 'job-small',
          ownerId: 2,
          spec: singleTaskSpec('small'),
          descriptionJson: '{}',
          idempotentToken: null,
        },
        1001,
      );
      const urgent = await submit(store, singleTaskSpec('urgent', { instanceCount: 2 }, { priority: 5 }));
      // Higher priority first, whoever owns it; then turns: owner 2 runs nothing, owner 1 runs two.
      let claimed = await store.claimAttempts('w1', 4, 10, 10 + LEASE);
      assert.deepEqual(
        claimed.map((c) => c.jobId),
        [urgent, urgent, 'job-small', big],
      );
      claimed = await store.claimAttempts('w1', 3, 11, 11 + LEASE);
      assert.deepEqual(
        claimed.map((c) => c.jobId),
        [big, big, big],
      );
      await store.close();
    });

    it('holds a retried instance back for the task’s backoff', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('backoff', { maxRetryCount: 1, retryBackoffSec: 5 }));
      const [first] = await store.claimAttempts('w1', 1, 10, 10 + LEASE);
      await store.finishAttempts('w1', [failed(first!.attemptId)], 20);
      assert.equal((await store.queuePosition(id, 'task', 0, 10))?.notBeforeUs, 5_000_020);
      assert.equal((await store.claimAttempts('w1', 1, 5_000_019, 5_000_019 + LEASE)).length, 0);
      const [again] = await store.claimAttempts('w1', 1, 5_000_020, 5_000_020 + LEASE);
      assert.equal(again?.attemptNo, 2);
      await store.close();
    });

    it('fills a claim past capped work without counting anything twice', async () => {
      const store = await open();
      const a = await submit(store, singleTaskSpec('a'));
      const b = await submit(store, singleTaskSpec('b', { instanceCount: 5, maxRunningInstances: 1 }));
      const c = await submit(store, singleTaskSpec('c', { instanceCount: 5 }));
      let claimed = await store.claimAttempts('w1', 4, 10, 10 + LEASE);
      assert.deepEqual(
        claimed.map((x) => x.jobId),
        [a, b, c, c],
      );
      // Nine capped tasks ahead of uncapped work: a claim of one still finds it.
      const store2 = await open();
      for (let i = 0; i < 9; i++) {
        const id = await submit(
          store2,
          singleTaskSpec(`capped${i}`, { instanceCount: 2, maxRunningInstances: 1 }),
        );
        await store2.claimAttempts('w1', 1, 20 + i, 20 + i + LEASE);
        assert.ok(id);
      }
      const free = await submit(store2, singleTaskSpec('free'));
      claimed = await store2.claimAttempts('w1', 1, 40, 40 + LEASE);
      assert.deepEqual(
        claimed.map((x) => x.jobId),
        [free],
      );
      await store.close();
      await store2.close();
    });

    it('deletes only settled jobs: gone at once, purged after in batches', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('d', { instanceCount: 5 }), 'tok');
      await assert.rejects(store.deleteJob(id, 1), { code: 'StateConflict' });
      await runAll(store);
      await store.deleteJob(id, 3000);
      assert.equal(await store.getJob(id), undefined);
      assert.equal(await store.getJobDescription(id), undefined);
      assert.ok(!(await store.listJobs({ limit: 10 })).items.some((j) => j.id === id));
      await assert.rejects(store.deleteJob(id, 3001), { code: 'InvalidResource.NotFound' });
      await assert.rejects(store.startJob(id, 3001), { code: 'InvalidResource.NotFound' });
      // Its token is free again: a new submit makes a new job.
      assert.notEqual(await submit(store, singleTaskSpec('d2'), 'tok'), id);
      assert.deepEqual(await store.listDeletedJobs(10), [id]);
      const batches: number[] = [];
      for (let n = await store.purgeJob(id, 2); n > 0; n = await store.purgeJob(id, 2)) batches.push(n);
      // 5 attempts and 5 instances two at a time, then the job with its task.
      assert.deepEqual(batches, [2, 2, 1, 2, 2, 1, 1]);
      assert.deepEqual(await store.listDeletedJobs(10), []);
      assert.equal(await store.purgeJob(id, 2), 0);
      await store.close();
    });

    it('keeps instances that never started as one range: list, get, claim, stop and start on top of it', async () => {
      const store = await open();
      const big = 10_000_000;
      const started = Date.now();
      const id = await submit(store, singleTaskSpec('big', { instanceCount: big, maxRetryCount: 2 }));
      assert.ok(Date.now() - started < 2000, 'a task of ten million is written in O(1)');
      assert.equal((await store.getJob(id))?.instanceCounts.waiting, big);
      assert.equal((await store.getInstance(id, 'task', big - 1))?.state, 'Waiting');
      assert.equal(await store.getInstance(id, 'task', big), undefined);
      const claimed = await store.claimAttempts('w1', 3, 10, 10 + LEASE);
      assert.deepEqual(
        claimed.map((c) => [c.instanceId, c.attemptNo]),
        [
          [0, 1],
          [1, 1],
          [2, 1],
        ],
      );
      await store.finishAttempts('w1', [ok(claimed[0]!.attemptId), failed(claimed[1]!.attemptId)], 11);
      // A page across the boundary between rows and fresh instances, and filters on either side.
      const page = await store.listInstances(id, 'task', { limit: 4, marker: '1' });
      assert.deepEqual(
        page.items.map((i) => `${i.instanceId}:${i.state}`),
        ['1:Waiting', '2:Running', '3:Waiting', '4:Waiting'],
      );
      assert.equal(page.nextMarker, '5');
      assert.equal(page.items[0]!.retryCount, 1);
      assert.equal(page.items[2]!.attemptCount, 0);
      const waiting = await store.listInstances(id, 'task', { limit: 2, states: ['Waiting'] });
      assert.deepEqual(
        waiting.items.map((i) => i.instanceId),
        [1, 3],
      );
      assert.deepEqual(
        (await store.listInstances(id, 'task', { limit: 5, states: ['Finished', 'Running'] })).items.map(
          (i) => i.instanceId,
        ),
        [0, 2],
      );
      const last = await store.listInstances(id, 'task', { limit: 5, marker: String(big - 2) });
      assert.deepEqual(
        last.items.map((i) => i.instanceId),
        [big - 2, big - 1],
      );
      assert.equal(last.nextMarker, '');
      // The retried instance 1 (a row) goes before the fresh ones; the place in the queue counts the range.
      const position = await store.queuePosition(id, 'task', 5, 1_000_000);
      assert.equal(position?.ahead, 3); // instance 1 (retry) and 3, 4 (fresh, before 5 in the range)
      // A page's places at once: the retried row, then the range (one count each); 0 and 2 are not queued.
      const places = await store.queuePositions(id, 'task', [0, 1, 2, 3, 5], 1_000_000);
      assert.deepEqual(
        [...places].map(([i, p]) => [i, p.ahead]),
        [
          [1, 0],
          [3, 1],
          [5, 3],
        ],
      );
      const next = await store.claimAttempts('w2', 2, 12, 12 + LEASE);
      assert.deepEqual(
        next.map((c) => [c.instanceId, c.attemptNo]),
        [
          [1, 2],
          [3, 1],
        ],
      );
      // Stop: every waiting and running instance is Stopped, the ten million fresh ones too, in O(1).
      await store.stopJob(id, 20);
      const stopped = await store.getJob(id);
      assert.deepEqual(stopped?.instanceCounts, {
        waiting: 0,
        running: 0,
        finished: 1,
        failed: 0,
        stopped: big - 1,
      });
      const fresh = await store.getInstance(id, 'task', 9_999_999);
      assert.equal(fresh?.state, 'Stopped');
      assert.equal(fresh?.endedAtUs, 20);
      assert.equal(
        (await store.listInstances(id, 'task', { limit: 3, states: ['Waiting'] })).items.length,
        0,
      );
      // Start: they wait again and the claim carries on where the rows end.
      await store.startJob(id, 30);
      assert.equal((await store.getJob(id))?.instanceCounts.waiting, big - 1);
      const again = await store.claimAttempts('w1', 6, 31, 31 + LEASE);
      assert.deepEqual(
        again.map((c) => [c.instanceId, c.attemptNo]),
        [
          [1, 3],
          [2, 2],
          [3, 2],
          [4, 1],
          [5, 1],
          [6, 1],
        ],
      );
      assert.equal((await store.getTask(id, 'task'))?.counts.running, 6);
      await store.close();
    });

    it('lists jobs newest first with markers and state filters; instances by number', async () => {
      const store = await open();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(await submit(store, singleTaskSpec(`j${i}`, { instanceCount: 7 })));
      const page1 = await store.listJobs({ limit: 2 });
      assert.deepEqual(
        page1.items.map((j) => j.id),
        [ids[4], ids[3]],
      );
      assert.equal(page1.nextMarker, ids[2]);
      const page3 = await store.listJobs({ limit: 2, marker: ids[0] });
      assert.deepEqual(
        page3.items.map((j) => j.id),
        [ids[0]],
      );
      assert.equal(page3.nextMarker, '');
      await store.stopJob(ids[1]!, 5);
      assert.deepEqual(
        (await store.listJobs({ limit: 10, states: ['Stopped'] })).items.map((j) => j.id),
        [ids[1]],
      );
      assert.equal((await store.listJobs({ limit: 10, ownerId: 99 })).items.length, 0);
      // By name, in any case; LIKE's wildcards are matched as written.
      assert.deepEqual(
        (await store.listJobs({ limit: 10, nameContains: 'J3' })).items.map((j) => j.id),
        [ids[3]],
      );
      assert.equal((await store.listJobs({ limit: 10, nameContains: '%' })).items.length, 0);
      assert.equal((await store.listJobs({ limit: 10, nameContains: 'j_' })).items.length, 0);
      const inst = await store.listInstances(ids[0]!, 'task', { limit: 3, marker: '2' });
      assert.deepEqual(
        inst.items.map((i) => i.instanceId),
        [2, 3, 4],
      );
      assert.equal(inst.nextMarker, '5');
      await store.close();
    });

    it('never hands one instance to two concurrent claimers', async () => {
      const store = await open();
      await submit(store, singleTaskSpec('c', { instanceCount: 40 }));
      const batches = await Promise.all(
        Array.from({ length: 8 }, (_, w) => store.claimAttempts(`w${w}`, 10, 10, 10 + LEASE)),
      );
      const all = batches.flat().map((c) => c.instanceId);
      assert.equal(all.length, 40);
      assert.equal(new Set(all).size, 40);
      await store.close();
    });

    it('exchanges ended attempts for new claims in one round', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('x', { instanceCount: 3 }));
      const first = await store.exchangeAttempts('w1', [], 2, 10, 10 + LEASE);
      assert.deepEqual(
        first.map((c) => c.instanceId),
        [0, 1],
      );
      const next = await store.exchangeAttempts('w1', [ok(first[0]!.attemptId)], 2, 11, 11 + LEASE);
      assert.deepEqual(
        next.map((c) => c.instanceId),
        [2],
      );
      assert.equal((await store.getInstance(id, 'task', 0))?.state, 'Finished');
      await store.exchangeAttempts(
        'w1',
        [ok(first[1]!.attemptId), ok(next[0]!.attemptId)],
        2,
        12,
        12 + LEASE,
      );
      assert.equal((await store.getJob(id))?.state, 'Finished');
      await store.close();
    });

    it('claims ahead past capped work, and takes back attempts given back unstarted as if never claimed', async () => {
      const store = await open();
      const capped = await submit(store, singleTaskSpec('cap', { instanceCount: 3, maxRunningInstances: 3 }));
      const free = await submit(store, singleTaskSpec('free', { instanceCount: 4 }));
      // One free slot and three ahead: the capped task fills the slot only; the free task gives the rest.
      const claimed = await store.exchangeAttempts('w1', [], 4, 10, 10 + LEASE, undefined, 3);
      assert.deepEqual(
        claimed.map((c) => `${c.jobId === capped ? 'cap' : 'free'}.${c.instanceId}`),
        ['cap.0', 'free.0', 'free.1', 'free.2'],
      );
      const back = claimed.slice(2).map((c) => c.attemptId);
      assert.deepEqual(await store.returnAttempts('w2', back, 11), [], 'only the holder gives back');
      assert.deepEqual(await store.returnAttempts('w1', back, 11), back);
      const returned = await store.getInstance(free, 'task', 1);
      assert.equal(returned?.state, 'Waiting');
      assert.equal(returned?.attemptCount, 0);
      assert.equal((await store.getTask(free, 'task'))?.counts.running, 1);
      // Back in the queue in their place: claimed again, as first attempts.
      const again = await store.exchangeAttempts('w2', [], 5, 12, 12 + LEASE);
      assert.deepEqual(
        again.filter((c) => c.jobId === free).map((c) => `${c.instanceId}/${c.attemptNo}`),
        ['1/1', '2/1', '3/1'],
      );
      assert.deepEqual(await store.returnAttempts('w1', back, 13), [], 'a second give-back changes nothing');
      await store.close();
    });

    it('fails a job once, with its message, when its only instance fails', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('once'));
      const [claim] = await store.claimAttempts('w1', 1, 10, 10 + LEASE);
      await store.finishAttempts('w1', [failed(claim!.attemptId)], 11);
      const events = (await store.listEvents(0, 1000)).filter(
        (e) => e.jobId === id && e.type === 'OnJobFailed',
      );
      assert.equal(events.length, 1);
      assert.match(String(events[0]!.detail.Message), /task\.0 failed/);
      assert.match((await store.getJob(id))?.message ?? '', /task\.0 failed/);
      await store.close();
    });

    it('start does not reopen failed instances of a task that finished (JobFailOnInstanceFail=false)', async () => {
      const store = await open();
      const spec = logCountSpec({ jobFailOnInstanceFail: false });
      const id = await submit(store, spec);
      const split = await store.claimAttempts('w1', 1, 10, 10 + LEASE);
      await store.finishAttempts('w1', [ok(split[0]!.attemptId)], 11);
      const count = await store.claimAttempts('w1', 3, 12, 12 + LEASE);
      await store.finishAttempts(
        'w1',
        [failed(count[0]!.attemptId), ok(count[1]!.attemptId), ok(count[2]!.attemptId)],
        13,
      );
      await store.stopJob(id, 14);
      await store.startJob(id, 15);
      await runAll(store, 'w1', 20);
      const job = await store.getJob(id);
      assert.equal(job?.state, 'Finished');
      assert.deepEqual(job?.instanceCounts, { waiting: 0, running: 0, finished: 4, failed: 1, stopped: 0 });
      await store.close();
    });

    it('fails an instance whose attempts keep getting cut off, beyond the allowance', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('lost', { maxRetryCount: 0 }));
      for (let i = 0; i < 10; i++) {
        const claimed = await store.claimAttempts(`w${i}`, 1, 100 * i, 100 * i + 10);
        if (claimed.length === 0) break;
        await store.expireLeases(100 * i + 20);
      }
      const instance = await store.getInstance(id, 'task', 0);
      assert.equal(instance?.state, 'Failed');
      assert.equal(instance?.errorCode, 'WorkerLost');
      assert.equal(instance?.attemptCount, 4);
      assert.equal((await store.getJob(id))?.state, 'Failed');
      await store.close();
    });

    it('renews only the leases a worker says it holds; stale reports leave history alone', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('lease', { instanceCount: 2 }));
      const claimed = await store.claimAttempts('w1', 2, 10, 100);
      assert.deepEqual(await store.renewLeases('w1', [claimed[0]!.attemptId], 50, 1000), []);
      assert.equal(await store.expireLeases(150), 1, 'the unmentioned attempt expired');
      assert.equal((await store.getInstance(id, 'task', 1))?.state, 'Waiting');
      // Another worker's report about w1's attempt changes nothing.
      await store.finishAttempts('w2', [ok(claimed[0]!.attemptId)], 160);
      assert.equal((await store.getInstance(id, 'task', 0))?.state, 'Running');
      assert.equal((await store.listAttempts(id, 'task', 0))[0]?.state, 'Running');
      // w1's late report of the expired attempt does not overwrite its Lost record.
      await store.finishAttempts('w1', [ok(claimed[1]!.attemptId)], 170);
      const lost = (await store.listAttempts(id, 'task', 1))[0];
      assert.deepEqual([lost?.state, lost?.errorCode], ['Lost', 'WorkerLost']);
      await store.close();
    });

    it('stores command output with NUL bytes', async () => {
      const store = await open();
      const id = await submit(store, singleTaskSpec('nul'));
      const [claim] = await store.claimAttempts('w1', 1, 10, 10 + LEASE);
      await store.finishAttempts(
        'w1',
        [{ ...failed(claim!.attemptId), errorMessage: 'a\u0000b', detail: 'x\u0000y' }],
        11,
      );
      const instance = await store.getInstance(id, 'task', 0);
      assert.deepEqual([instance?.state, instance?.errorMessage, instance?.detail], ['Failed', 'ab', 'xy']);
      await store.close();
    });

    it('settles every job when two servers report the last instances of its tasks at once', async (t) => {
      if (!openPair) return t.skip('this backend serves one server process');
      const [a, b] = await openPair();
      const ids: string[] = [];
      const spec = () => ({
        ...logCountSpec({ name: 'pair' }),
        tasks: [logCountSpec().tasks[0]!, { ...logCountSpec().tasks[0]!, name: 'other' }],
        predecessors: { split: [], other: [] },
      });
      for (let i = 0; i < 10; i++) ids.push(await submit(a, spec()));
      const claims = await a.claimAttempts('w1', 20, 10, 10 + LEASE);
      assert.equal(claims.length, 20);
      const byJob = new Map<string, string[]>();
      for (const c of claims) byJob.set(c.jobId, [...(byJob.get(c.jobId) ?? []), c.attemptId]);
      await Promise.all(
        [...byJob.values()].flatMap(([first, second]) => [
          a.finishAttempts('w1', [ok(first!)], 20),
          b.finishAttempts('w1', [ok(second!)], 20),
        ]),
      );
      for (const id of ids) assert.equal((await a.getJob(id))?.state, 'Finished', id);
      await a.close();
      await b.close();
    });
  });
  accountsContract(name, open, openPair);
  clustersContract(name, open);
}
