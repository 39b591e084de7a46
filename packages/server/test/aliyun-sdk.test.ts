/**
 * Wire compatibility: the original Alibaba Node client (npm aliyun-sdk@1.12.10) drives a job through its
 * whole life against a real Shoal server.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { startTestShoal, type TestShoal } from './helpers.js';

const require = createRequire(import.meta.url);
const ALY = require('aliyun-sdk') as {
  BatchCompute: new (
    options: Record<string, string>,
  ) => Record<string, (params: unknown, cb: (err: AlyError | null, res: AlyResult) => void) => void>;
};

interface AlyError {
  code: string;
  message: string;
  statusCode: number;
}
interface AlyResult {
  code: number;
  requestId: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}

let shoal: TestShoal;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let client: any;

function call(method: string, params: unknown): Promise<AlyResult> {
  return new Promise((resolve, reject) => {
    client[method](params, (err: AlyError | null, res: AlyResult) => (err ? reject(err) : resolve(res)));
  });
}

before(async () => {
  shoal = await startTestShoal({ slots: 2 });
  client = new ALY.BatchCompute({
    accessKeyId: shoal.credentials.AccessKeyId,
    secretAccessKey: shoal.credentials.AccessKeySecret,
    endpoint: shoal.url,
    apiVersion: '2015-11-11',
  });
});
after(() => shoal.cleanup());

const task = (cmd: string, count = 1) => ({
  InstanceCount: count,
  MaxRetryCount: 0,
  Timeout: 60,
  AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'shoal.local' },
  Parameters: {
    Command: { CommandLine: cmd, PackagePath: '', EnvVars: {} },
    StdoutRedirectPath: 'oss://aliyun-test/logs/',
    StderrRedirectPath: 'oss://aliyun-test/logs/',
  },
});

test('aliyun-sdk creates, lists, reads, stops, restarts, re-prioritises and deletes a DAG job', async () => {
  const created = await call('createJob', {
    Name: 'aliyun-dag',
    Description: 'from aliyun-sdk',
    Priority: 5,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    DAG: {
      Tasks: { first: task('/bin/sleep 30'), second: task('/bin/echo second', 2) },
      Dependencies: { first: ['second'] },
    },
  });
  assert.equal(created.code, 201);
  const id: string = created.data.Id;
  assert.match(id, /^job-[0-9A-F]{32}$/);

  const listed = await call('listJobs', { Marker: '', MaxItemCount: 10 });
  assert.equal(listed.code, 200);
  assert.ok(listed.data.Items.some((j: { Id: string }) => j.Id === id));
  assert.equal(typeof listed.data.NextMarker, 'string');

  const got = await call('getJob', { JobId: id });
  assert.equal(got.data.Name, 'aliyun-dag');
  assert.equal(got.data.Priority, 5);
  assert.match(got.data.CreationTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(['Waiting', 'Running'].includes(got.data.State));

  const description = await call('getJobDescription', { JobId: id });
  assert.deepEqual(Object.keys(description.data.DAG.Tasks).sort(), ['first', 'second']);
  assert.deepEqual(description.data.DAG.Dependencies, { first: ['second'] });

  await shoal.waitForJob(id, ['Running']);
  const stopped = await call('stopJob', { JobId: id });
  assert.equal(stopped.code, 201);
  assert.equal((await shoal.waitForJob(id, ['Stopped'])).State, 'Stopped');

  const prio = await call('changeJobPriority', { JobId: id, Priority: 7 });
  assert.equal(prio.code, 200);
  assert.equal((await call('getJob', { JobId: id })).data.Priority, 7);

  const tasks = await call('listTasks', { JobId: id, Marker: '', MaxItemCount: 10 });
  assert.deepEqual(
    tasks.data.Items.map((t: { TaskName: string }) => t.TaskName),
    ['first', 'second'],
  );
  const first = await call('getTask', { JobId: id, TaskName: 'first' });
  assert.equal(first.data.State, 'Stopped');

  const instances = await call('listInstances', {
    JobId: id,
    TaskName: 'second',
    Marker: '',
    MaxItemCount: 10,
  });
  assert.deepEqual(
    instances.data.Items.map((i: { InstanceId: number }) => i.InstanceId),
    [0, 1],
  );
  const instance = await call('getInstance', { JobId: id, TaskName: 'first', InstanceId: '0' });
  assert.equal(instance.data.InstanceId, 0);
  assert.equal(typeof instance.data.Result.ExitCode, 'number');
  assert.equal(instance.data.StdoutRedirectPath, `oss://aliyun-test/logs/stdout.${id}.first.0`);

  const started = await call('startJob', { JobId: id });
  assert.equal(started.code, 201);
  // Restarted for real: the stopped instance runs again, in a second attempt (Waiting alone would hold at once).
  for (const deadline = Date.now() + 20_000; ;) {
    const again = await call('getInstance', { JobId: id, TaskName: 'first', InstanceId: '0' });
    if (again.data.State === 'Running' && again.data.AttemptCount === 2) break;
    assert.ok(Date.now() < deadline, `not running again: ${JSON.stringify(again.data)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal((await call('getJob', { JobId: id })).data.State, 'Running');
  await call('stopJob', { JobId: id });
  await shoal.waitForJob(id, ['Stopped']);

  const deleted = await call('deleteJob', { JobId: id });
  assert.equal(deleted.code, 200);
  await assert.rejects(call('getJob', { JobId: id }), (err: AlyError) => {
    assert.equal(err.code, 'InvalidResource.NotFound');
    assert.equal(err.statusCode, 404);
    return true;
  });
});

test('aliyun-sdk runs a job to completion and reads quotas and available types', async () => {
  const created = await call('createJob', {
    Name: 'aliyun-run',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    DAG: { Tasks: { only: task('/bin/echo hello', 3) }, Dependencies: {} },
  });
  const job = await shoal.waitForJob(created.data.Id);
  assert.equal(job.State, 'Finished');
  assert.deepEqual(job.InstanceMetrics, {
    WaitingCount: 0,
    RunningCount: 0,
    FinishedCount: 3,
    FailedCount: 0,
    StoppedCount: 0,
  });
  const quotas = await call('getQuotas', {});
  assert.ok(Array.isArray(quotas.data.AvailableClusterInstanceType));
  const available = await call('getAvailable', {});
  assert.equal(typeof available.data.AvailableClusterInstanceType[0].CpuCore, 'number');
});

test('aliyun-sdk sees validation errors with their code and message', async () => {
  await assert.rejects(
    call('createJob', {
      Name: 'bad',
      Priority: 1,
      Type: 'DAG',
      JobFailOnInstanceFail: true,
      DAG: { Tasks: { t: { ...task('/bin/true'), InstanceCount: 0 } } },
    }),
    (err: AlyError) => {
      assert.equal(err.statusCode, 400);
      assert.equal(err.code, 'InvalidJobDescription');
      assert.match(err.message, /DAG\.Tasks\.t\.InstanceCount/);
      return true;
    },
  );
});

test('aliyun-sdk creates, lists, reads, resizes and deletes a cluster, and lists its VMs', async () => {
  const created = await call('createCluster', {
    Name: 'aliyun-cluster',
    Description: 'from aliyun-sdk',
    ImageId: 'img-ubuntu',
    InstanceType: 'shoal.local',
    UserData: { team: 'render' },
    Groups: { group1: { DesiredVMCount: 1, InstanceType: 'shoal.local', ResourceType: 'OnDemand' } },
  });
  assert.equal(created.code, 201);
  const id: string = created.data.Id;
  assert.match(id, /^cls-/);

  const listed = await call('listClusters', { Marker: '', MaxItemCount: 50 });
  assert.ok(listed.data.Items.some((c: { Id: string }) => c.Id === id));
  assert.ok(listed.data.Items.some((c: { Id: string }) => c.Id === 'cls-local'));
  const got = await call('getCluster', { ClusterId: id });
  assert.equal(got.data.Name, 'aliyun-cluster');
  assert.equal(got.data.State, 'Active');
  assert.deepEqual(got.data.UserData, { team: 'render' });
  assert.equal(got.data.Groups.group1.DesiredVMCount, 1);

  await call('changeClusterDesiredVMCount', { ClusterId: id, Groups: { group1: { DesiredVMCount: 3 } } });
  assert.equal((await call('getCluster', { ClusterId: id })).data.Groups.group1.DesiredVMCount, 3);

  const vms = await call('listClusterInstances', {
    ClusterId: 'cls-local',
    GroupName: 'group',
    Marker: '',
    MaxItemCount: 10,
  });
  assert.equal(vms.data.Items.length, 1);
  const vm = await call('getClusterInstance', {
    ClusterId: 'cls-local',
    GroupName: 'group',
    InstanceId: vms.data.Items[0].Id,
  });
  assert.equal(vm.data.State, 'Running');
  // Recreating the embedded worker while it runs nothing: accepted, and it keeps running.
  await call('recreateClusterInstance', {
    ClusterId: 'cls-local',
    GroupName: 'group',
    InstanceId: vms.data.Items[0].Id,
  });

  await call('deleteCluster', { ClusterId: id });
  await assert.rejects(call('getCluster', { ClusterId: id }), (err: AlyError) => {
    assert.equal(err.statusCode, 404);
    assert.equal(err.code, 'InvalidResource.NotFound');
    return true;
  });
});
