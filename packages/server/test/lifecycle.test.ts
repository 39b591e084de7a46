/** Jobs through their whole life over real HTTP, on a real local worker running real processes. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_CLAIM_AHEAD } from '@shoal/agent';
import { simpleJob, startTestShoal, type TestShoal, until } from './helpers.js';

let shoal: TestShoal;
before(async () => {
  shoal = await startTestShoal({ slots: 2, sandbox: 'off' });
});
after(() => shoal.cleanup());

async function submit(job: unknown, query = ''): Promise<string> {
  const res = await shoal.api('POST', `/jobs${query}`, job);
  assert.equal(res.status, 201, res.text);
  return res.json.Id;
}

async function log(id: string, task: string, iid: number, stream = 'stdout'): Promise<string> {
  return (await shoal.api('GET', `/jobs/${id}/tasks/${task}/instances/${iid}/log?stream=${stream}`)).text;
}

test('a DAG runs in dependency order; each instance sees its index and the job ids', async () => {
  const job = simpleJob(
    "/bin/sh -c 'echo $BATCH_COMPUTE_DAG_JOB_ID $BATCH_COMPUTE_DAG_TASK_ID $BATCH_COMPUTE_DAG_INSTANCE_ID $GREETING; date +%s%N'",
  );
  const base = job.DAG.Tasks.task;
  const tasks = {
    split: {
      ...base,
      Parameters: {
        ...base.Parameters,
        Command: { ...base.Parameters.Command, EnvVars: { GREETING: 'hi' } },
      },
    },
    count: { ...base, InstanceCount: 3 },
    merge: base,
  };
  const id = await submit({
    ...job,
    DAG: { Tasks: tasks, Dependencies: { split: ['count'], count: ['merge'] } },
  });
  const done = await shoal.waitForJob(id);
  assert.equal(done.State, 'Finished');
  assert.deepEqual(done.TaskMetrics, {
    WaitingCount: 0,
    RunningCount: 0,
    FinishedCount: 3,
    FailedCount: 0,
    StoppedCount: 0,
  });
  const split = (await log(id, 'split', 0)).split('\n');
  assert.equal(split[0], `${id} split 0 hi`);
  const counts = await Promise.all([0, 1, 2].map((i) => log(id, 'count', i)));
  counts.forEach((text, i) => assert.equal(text.split('\n')[0], `${id} count ${i}`));
  const merge = (await log(id, 'merge', 0)).split('\n');
  // Ordering: split ended before any count started, every count before merge.
  const t = (text: string) => BigInt(text.split('\n')[1]!);
  assert.ok(counts.every((c) => t(c) > BigInt(split[1]!)));
  assert.ok(counts.every((c) => t(c) < BigInt(merge[1]!)));
  const instance = (await shoal.api('GET', `/jobs/${id}/tasks/count/instances/2`)).json;
  assert.equal(instance.InstanceId, 2);
  assert.equal(instance.State, 'Finished');
  assert.equal(instance.Result.ExitCode, 0);
  assert.match(instance.StartTime, /\.\d{6}Z$/);
});

test('command lines are not interpreted by a shell', async () => {
  const id = await submit(simpleJob("/bin/echo a | b > c '$HOME'"));
  await shoal.waitForJob(id);
  assert.equal(await log(id, 'task', 0), 'a | b > c $HOME\n');
});

test('a failing command is retried MaxRetryCount times, then fails the job with its exit code', async () => {
  const marker = join(shoal.dataDir, `retry-${Date.now()}`);
  const cmd = `/bin/sh -c 'echo try >> ${marker}; exit 7'`;
  const id = await submit(simpleJob(cmd, { MaxRetryCount: 2 }));
  const job = await shoal.waitForJob(id);
  assert.equal(job.State, 'Failed');
  assert.match(job.Message, /task\.0 failed: .*code 7/);
  const instance = (await shoal.api('GET', `/jobs/${id}/tasks/task/instances/0`)).json;
  assert.equal(instance.State, 'Failed');
  assert.equal(instance.RetryCount, 2);
  assert.equal(instance.Result.ExitCode, 7);
  assert.equal(instance.Result.ErrorCode, 'NonZeroExitCode');
  assert.equal(execFileSync('wc', ['-l', marker]).toString().trim().split(' ')[0], '3');
});

test('a timeout kills the whole process tree and says so', async () => {
  const tag = `shoal-timeout-${process.pid}-${Date.now()}`;
  const id = await submit(simpleJob(`/bin/bash -c 'sleep 30 & exec -a ${tag} sleep 30'`, { Timeout: 1 }));
  const started = Date.now();
  const job = await shoal.waitForJob(id);
  assert.ok(Date.now() - started < 8000, 'killed promptly');
  assert.equal(job.State, 'Failed');
  const instance = (await shoal.api('GET', `/jobs/${id}/tasks/task/instances/0`)).json;
  assert.equal(instance.Result.ErrorCode, 'Timeout');
  assert.match(instance.Result.ErrorMessage, /timed out/i);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const left = execFileSync('ps', ['-eo', 'args'])
    .toString()
    .split('\n')
    .filter((l) => l.includes(tag));
  assert.deepEqual(left, []);
});

test('with JobFailOnInstanceFail=false a failed instance does not stop the job', async () => {
  const job = simpleJob(
    "/bin/sh -c 'test $BATCH_COMPUTE_DAG_INSTANCE_ID != 1'",
    { InstanceCount: 3 },
    { JobFailOnInstanceFail: false },
  );
  const id = await submit(job);
  const done = await shoal.waitForJob(id);
  assert.equal(done.State, 'Finished');
  assert.equal(done.InstanceMetrics.FailedCount, 1);
  assert.equal(done.InstanceMetrics.FinishedCount, 2);
  const failed = (await shoal.api('GET', `/jobs/${id}/tasks/task/instances?State=Failed`)).json;
  assert.deepEqual(
    failed.Items.map((i: { InstanceId: number }) => i.InstanceId),
    [1],
  );
});

test('stop kills running attempts; start re-runs what did not finish; delete removes logs', async () => {
  // A duration no other process on the machine uses, so that only this job's commands are looked for.
  const seconds = `30.${process.pid}${Date.now() % 1000}`;
  const id = await submit(simpleJob(`/bin/sleep ${seconds}`, { InstanceCount: 3 }));
  await shoal.waitForJob(id, ['Running']);
  let res = await shoal.api('POST', `/jobs/${id}/stop`);
  assert.equal(res.status, 201);
  const stopped = await shoal.waitForJob(id, ['Stopped']);
  assert.equal(stopped.InstanceMetrics.StoppedCount, 3);
  res = await shoal.api('POST', `/jobs/${id}/stop`);
  assert.equal(res.status, 409);
  assert.equal(res.json.Code, 'StateConflict');
  // The running sleeps are gone (within a heartbeat; allow for a busy machine).
  const sleeping = (): string[] =>
    execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter((l) => l === `/bin/sleep ${seconds}`);
  for (const deadline = Date.now() + 10_000; sleeping().length > 0;) {
    assert.ok(Date.now() < deadline, `still running: ${sleeping().join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  res = await shoal.api('DELETE', `/jobs/${id}`);
  assert.equal(res.status, 200);
  assert.equal((await shoal.api('GET', `/jobs/${id}`)).status, 404);
  // Its logs and rows are purged after the delete returned.
  await until(
    'the deleted job is purged',
    async () =>
      existsSync(join(shoal.dataDir, 'logs', id)) || (await shoal.store.listDeletedJobs(10)).length
        ? undefined
        : true,
    10_000,
  );

  const again = await submit(simpleJob("/bin/sh -c 'test -e " + join(shoal.dataDir, 'go') + " || sleep 30'"));
  await shoal.waitForJob(again, ['Running']);
  await shoal.api('POST', `/jobs/${again}/stop`);
  await shoal.waitForJob(again, ['Stopped']);
  execFileSync('touch', [join(shoal.dataDir, 'go')]);
  res = await shoal.api('POST', `/jobs/${again}/start`);
  assert.equal(res.status, 201);
  assert.equal((await shoal.waitForJob(again)).State, 'Finished');
  const instance = (await shoal.api('GET', `/jobs/${again}/tasks/task/instances/0`)).json;
  assert.equal(instance.AttemptCount, 2);
});

test('higher priority jobs run first', async () => {
  // One slot stays busy, so that the other frees alone and the two waiting jobs cannot start together
  // (they would then share a StartTime); the low one can start only after the high one has ended.
  const busy = await submit(simpleJob('/bin/sleep 60'));
  const blocker = await submit(simpleJob('/bin/sleep 1'));
  await shoal.waitForJob(busy, ['Running']);
  await shoal.waitForJob(blocker, ['Running']);
  // Past the claim-ahead horizon (the worker claims ahead only while what it runs is young), so neither
  // job is dispatched before the other is submitted: the queue alone decides.
  await new Promise((resolve) => setTimeout(resolve, 2 * DEFAULT_CLAIM_AHEAD.horizonMs));
  const low = await submit(simpleJob('/bin/true', {}, { Priority: 1 }));
  const high = await submit(simpleJob('/bin/true', {}, { Priority: 900 }));
  await shoal.waitForJob(low, undefined, 60_000);
  const lowJob = (await shoal.api('GET', `/jobs/${low}`)).json;
  const highJob = (await shoal.api('GET', `/jobs/${high}`)).json;
  assert.ok(
    highJob.EndTime <= lowJob.StartTime,
    `high ended ${highJob.EndTime}, low started ${lowJob.StartTime}`,
  );
  await shoal.api('POST', `/jobs/${busy}/stop`);
});

test('short instances are claimed ahead, many per exchange, and all run once', async () => {
  const id = await submit(simpleJob('/bin/true', { InstanceCount: 300 }));
  const done = await shoal.waitForJob(id, undefined, 60_000);
  assert.equal(done.State, 'Finished');
  assert.equal(done.InstanceMetrics.FinishedCount, 300);
  const starts = new Set<string>();
  for (let marker = ''; ;) {
    const page = (
      await shoal.api('GET', `/jobs/${id}/tasks/task/instances?MaxItemCount=100&Marker=${marker}`)
    ).json;
    for (const i of page.Items as { StartTime: string; Result: { ExitCode: number } }[]) {
      starts.add(i.StartTime);
      assert.equal(i.Result.ExitCode, 0);
    }
    if (!page.NextMarker) break;
    marker = page.NextMarker;
  }
  // One claim per ended attempt would give about 300 start times (2 slots, one or two per exchange).
  assert.ok(starts.size <= 100, `${starts.size} distinct start times for 300 instances`);
});

test('attempts claimed ahead that turn out long are given back unstarted, with no attempt counted', async () => {
  // Short attempts first: the worker learns to claim ahead.
  await shoal.waitForJob(await submit(simpleJob('/bin/true', { InstanceCount: 60 })), undefined, 60_000);
  const id = await submit(simpleJob('/bin/sleep 1', { InstanceCount: 8 }));
  // Once what runs has outlived the claim-ahead horizon, what is held beyond the slots goes back.
  await until(
    'held attempts given back',
    async () => {
      const job = (await shoal.api('GET', `/jobs/${id}`)).json;
      const { RunningCount, WaitingCount } = job.InstanceMetrics;
      return RunningCount <= 2 && WaitingCount >= 4 ? true : undefined;
    },
    5_000,
  );
  const done = await shoal.waitForJob(id, undefined, 60_000);
  assert.equal(done.State, 'Finished');
  const page = (await shoal.api('GET', `/jobs/${id}/tasks/task/instances`)).json;
  assert.deepEqual(
    page.Items.map((i: { AttemptCount: number }) => i.AttemptCount),
    Array(8).fill(1),
  );
});

test('IdempotentToken returns the same job', async () => {
  const a = await submit(simpleJob('/bin/true'), '?IdempotentToken=tok-42');
  const b = await submit(simpleJob('/bin/true'), '?IdempotentToken=tok-42');
  assert.equal(a, b);
});

test('AutoRelease deletes the job after it finishes', async () => {
  const id = await submit(simpleJob('/bin/true', {}, { AutoRelease: true }));
  const deadline = Date.now() + 10_000;
  while ((await shoal.api('GET', `/jobs/${id}`)).status !== 404) {
    assert.ok(Date.now() < deadline, 'auto-released within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

test('logs stream while the attempt runs', async () => {
  const id = await submit(simpleJob("/bin/sh -c 'echo one; sleep 1; echo two'"));
  await shoal.waitForJob(id, ['Running']);
  const res = await shoal.api('GET', `/jobs/${id}/tasks/task/instances/0/log?stream=stdout&follow=true`);
  assert.equal(res.text, 'one\ntwo\n');
  assert.equal((await shoal.waitForJob(id)).State, 'Finished');
});

test('stdout and stderr are uploaded to the redirect paths', async () => {
  const job = simpleJob("/bin/sh -c 'echo out; echo err >&2'", {
    InstanceCount: 2,
    Parameters: {
      Command: {
        CommandLine: "/bin/sh -c 'echo out $BATCH_COMPUTE_DAG_INSTANCE_ID; echo err >&2'",
        PackagePath: '',
      },
      StdoutRedirectPath: 'oss://results/logs/',
      StderrRedirectPath: 'oss://results/logs/',
    },
  });
  const id = await submit(job);
  await shoal.waitForJob(id);
  const files = readdirSync(join(shoal.dataDir, 'objects', 'results', 'logs'))
    .filter((f) => f.includes(id))
    .sort();
  assert.deepEqual(files, [
    `stderr.${id}.task.0`,
    `stderr.${id}.task.1`,
    `stdout.${id}.task.0`,
    `stdout.${id}.task.1`,
  ]);
  const res = await shoal.api('GET', `/objects/results/logs/stdout.${id}.task.1`);
  assert.equal(res.text, 'out 1\n');
});

test('job lists page with NextMarker', async () => {
  for (let i = 0; i < 3; i++) await submit(simpleJob('/bin/true'));
  const first = (await shoal.api('GET', '/jobs?MaxItemCount=2')).json;
  assert.equal(first.Items.length, 2);
  assert.notEqual(first.NextMarker, '');
  const second = (await shoal.api('GET', `/jobs?MaxItemCount=2&Marker=${first.NextMarker}`)).json;
  assert.equal(second.Items[0].Id, first.NextMarker);
});

test('RetryStrategy: an exit code ruled EXIT fails at once; one ruled RETRY uses the retries', async () => {
  const job = (code: number) =>
    simpleJob(`/bin/sh -c 'exit ${code}'`, {
      MaxRetryCount: 2,
      RetryStrategy: {
        EvaluateOnExit: [
          { OnExitCode: '3', Action: 'EXIT' },
          { OnExitCode: '*', Action: 'RETRY' },
        ],
      },
    });
  const fatal = (await shoal.api('POST', '/jobs', job(3))).json.Id as string;
  const flaky = (await shoal.api('POST', '/jobs', job(4))).json.Id as string;
  assert.equal((await shoal.waitForJob(fatal)).State, 'Failed');
  assert.equal((await shoal.waitForJob(flaky)).State, 'Failed');
  const instance = async (id: string) => (await shoal.api('GET', `/jobs/${id}/tasks/task/instances/0`)).json;
  assert.equal((await instance(fatal)).RetryCount, 0);
  assert.equal((await instance(flaky)).RetryCount, 2);
});
