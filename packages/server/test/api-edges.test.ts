/**
 * Edge cases of the HTTP API that the original clients and hostile input reach: every answer keeps the
 * API's status codes and `{Code, Message, RequestId, HostId}` shape, never a 500 or Fastify's own body.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { simpleJob, startTestShoal, type TestShoal } from './helpers.js';

let shoal: TestShoal;
before(async () => {
  // No worker: instances stay Waiting until the tests stop them.
  shoal = await startTestShoal({ slots: 0 });
});
after(() => shoal.cleanup());

function assertApiError(
  res: { status: number; json: Record<string, unknown> | undefined },
  status: number,
  code: string,
) {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.ok(res.json, 'a JSON body');
  assert.deepEqual(Object.keys(res.json).sort(), ['Code', 'HostId', 'Message', 'RequestId']);
  assert.equal(res.json['Code'], code);
}

test('a job description nested 100,000 deep is a 400 InvalidJobDescription, not a 500', async () => {
  for (const [open, close] of [
    ['[', ']'],
    ['{"a":', '}'],
  ] as const) {
    const body = `{"Name":"deep","Type":"DAG","DAG":${open.repeat(100_000)}${open === '[' ? '' : '1'}${close.repeat(100_000)}}`;
    const res = await shoal.api('POST', '/jobs', body);
    assertApiError(res, 400, 'InvalidJobDescription');
    assert.match(String(res.json.Message), /must not nest objects or arrays more than 64 levels deep/);
  }
  const list = await shoal.api('GET', '/jobs');
  assert.deepEqual(list.json.Items, [], 'nothing was half-written');
});

test('a URL with a bad %-escape gets the API error shape', async () => {
  const res = await shoal.api('GET', '/jobs/job-%E0%A4%A');
  assertApiError(res, 400, 'InvalidParameter');
  assert.match(String(res.json.Message), /The request URL is not valid/);
  assert.ok(res.headers.get('x-acs-request-id'));
});

test('GET /jobs/{id}?description shows the current Priority after a change', async () => {
  const { json } = await shoal.api('POST', '/jobs', simpleJob('/bin/true', {}, { Priority: 3 }));
  assert.equal((await shoal.api('POST', `/jobs/${json.Id}/stop`)).status, 201);
  assert.ok((await shoal.api('PUT', `/jobs/${json.Id}`, { Priority: 9 })).status < 300);
  const description = await shoal.api('GET', `/jobs/${json.Id}?description`);
  assert.equal(description.status, 200);
  assert.equal(description.json.Priority, 9);
  assert.equal(description.json.Name, 'test-job');
});

test('instances stopped before they ran report ExitCode -1 and ErrorCode Stopped, never exit 0', async () => {
  const { json } = await shoal.api('POST', '/jobs', simpleJob('/bin/true', { InstanceCount: 2 }));
  assert.equal((await shoal.api('POST', `/jobs/${json.Id}/stop`)).status, 201);
  const list = await shoal.api('GET', `/jobs/${json.Id}/tasks/task/instances`);
  assert.equal(list.json.Items.length, 2);
  for (const instance of list.json.Items) {
    assert.equal(instance.State, 'Stopped');
    assert.equal(instance.Result.ExitCode, -1);
    assert.equal(instance.Result.ErrorCode, 'Stopped');
    assert.equal(instance.Result.ErrorMessage, 'the job was stopped before this instance ran');
  }
});

test('MaxItemCount outside its range gets the same error on every list, with that list’s range', async () => {
  const { json } = await shoal.api('POST', '/jobs', simpleJob('/bin/true'));
  assert.equal((await shoal.api('PUT', '/objects/edges/a', 'x')).status, 201);
  const lists: [string, number][] = [
    ['/jobs', 100],
    [`/jobs/${json.Id}/tasks`, 100],
    [`/jobs/${json.Id}/tasks/task/instances`, 200],
    ['/images', 100],
    ['/events', 1000],
    ['/objects/edges', 1000],
    ['/users', 1000],
  ];
  for (const [path, max] of lists) {
    for (const bad of [String(max + 1), '-1', 'ten']) {
      const res = await shoal.api('GET', `${path}?MaxItemCount=${bad}`);
      assertApiError(res, 400, 'InvalidMaxItemCount');
      assert.equal(
        res.json.Message,
        `Specified parameter MaxItemCount is not valid: it must be a whole number from 1 to ${max} (0 or empty for the default, ${path === '/jobs' || path.endsWith('/tasks') || path.endsWith('/instances') || path === '/images' ? 50 : path === '/objects/edges' ? 1000 : 100}), got "${bad}".`,
        path,
      );
    }
    assert.equal((await shoal.api('GET', `${path}?MaxItemCount=${max}`)).status, 200, path);
  }
});

test('listing objects under a prefix that starts with a dot', async () => {
  for (const key of ['.hidden', '.config/a', '..notes', 'plain']) {
    assert.equal((await shoal.api('PUT', `/objects/dots/${key}`, key)).status, 201);
  }
  const keys = async (prefix: string): Promise<string[]> => {
    const res = await shoal.api('GET', `/objects/dots?Prefix=${encodeURIComponent(prefix)}`);
    assert.equal(res.status, 200, res.text);
    return (res.json.Items as { Key: string }[]).map((i) => i.Key).sort();
  };
  assert.deepEqual(await keys('.'), ['..notes', '.config/a', '.hidden']);
  assert.deepEqual(await keys('..'), ['..notes']);
  assert.deepEqual(await keys('.config/'), ['.config/a']);
  assert.deepEqual(await keys('.h'), ['.hidden']);
  // A '..' folder is still refused: only the last, partial part may be dots.
  assertApiError(
    await shoal.api('GET', `/objects/dots?Prefix=${encodeURIComponent('../x')}`),
    400,
    'InvalidParameter',
  );
});

test('a job of 1,000 tasks x 100,000 instances is refused with QuotaExceeded naming the limit, and nothing is written', async () => {
  const task = (n: number) => ({
    InstanceCount: 100_000,
    MaxRetryCount: 0,
    Timeout: 60,
    AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'shoal.local' },
    Parameters: { Command: { CommandLine: `/bin/echo ${n}`, PackagePath: '', EnvVars: {} } },
  });
  const tasks: Record<string, unknown> = {};
  for (let n = 0; n < 1000; n++) tasks[`t${n}`] = task(n);
  const body = { Name: 'huge', Priority: 1, Type: 'DAG', JobFailOnInstanceFail: true, DAG: { Tasks: tasks } };
  const before = (await shoal.api('GET', '/jobs?MaxItemCount=100')).json.Items.length;
  const started = Date.now();
  const res = await shoal.api('POST', '/jobs', body);
  const tookMs = Date.now() - started;
  assert.equal(res.status, 403, res.text);
  assert.equal(res.json.Code, 'QuotaExceeded');
  assert.match(
    res.json.Message,
    /^Quota InstancesPerJob \(1000000\) exceeded: the job asks for 100000000 instances in all its tasks together/,
  );
  assert.ok(tookMs < 5_000, `refused after ${tookMs} ms`);
  assert.equal((await shoal.api('GET', '/jobs?MaxItemCount=100')).json.Items.length, before);
});

test('a job of 1,000,000 instances: accepted, paged, stopped and deleted without a row per instance', async () => {
  const body = simpleJob('/bin/true', { InstanceCount: 1_000_000 });
  const res = await shoal.api('POST', '/jobs', body);
  assert.equal(res.status, 201, res.text);
  const id = res.json.Id;
  const job = (await shoal.api('GET', `/jobs/${id}`)).json;
  assert.equal(job.InstanceMetrics.WaitingCount, 1_000_000);
  const page = (await shoal.api('GET', `/jobs/${id}/tasks/task/instances?Marker=999998&MaxItemCount=5`)).json;
  assert.deepEqual(
    page.Items.map((i: { InstanceId: number; State: string }) => `${i.InstanceId}:${i.State}`),
    ['999998:Waiting', '999999:Waiting'],
  );
  assert.equal(page.NextMarker, '');
  assert.equal((await shoal.api('GET', `/jobs/${id}/tasks/task/instances/1000000`)).status, 404);
  assert.equal((await shoal.api('POST', `/jobs/${id}/stop`)).status, 201);
  const stopped = (await shoal.api('GET', `/jobs/${id}`)).json;
  assert.equal(stopped.State, 'Stopped');
  assert.equal(stopped.InstanceMetrics.StoppedCount, 1_000_000);
  const last = (await shoal.api('GET', `/jobs/${id}/tasks/task/instances/999999`)).json;
  assert.equal(last.State, 'Stopped');
  assert.equal(last.Result.ErrorCode, 'Stopped');
  assert.equal((await shoal.api('DELETE', `/jobs/${id}`)).status, 200);
  assert.equal((await shoal.api('GET', `/jobs/${id}`)).status, 404);
  assert.equal((await shoal.api('GET', `/jobs/${id}/tasks/task/instances/5`)).status, 404);
});
