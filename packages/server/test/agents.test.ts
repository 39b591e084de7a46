/**
 * Workers on other hosts: `shoal agent` processes join a static cluster with a worker token and run its
 * tasks over the worker protocol. Tokens and keys stay in their lanes, an agent reaches only its own
 * cluster and the objects of the attempts it holds, and an agent killed with SIGKILL loses nothing: its
 * attempts run again on another worker without using a retry.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestShoal, testAgents, type ApiResponse, type TestShoal } from './helpers.js';

let shoal: TestShoal;
const agents = testAgents(() => shoal.url, 2_147_000_000);

before(async () => {
  shoal = await startTestShoal({ slots: 1, leaseMs: 1500 });
});
after(async () => {
  agents.cleanup();
  await shoal.cleanup();
});

async function cluster(name: string, groups: Record<string, unknown>): Promise<string> {
  const res = await shoal.api('POST', '/clusters', {
    Name: name,
    ImageId: 'img-ubuntu',
    InstanceType: 'shoal.local',
    Groups: groups,
  });
  assert.equal(res.status, 201, res.text);
  return res.json.Id;
}

async function token(clusterId: string): Promise<string> {
  const res = await shoal.api('POST', `/clusters/${clusterId}/tokens`);
  assert.equal(res.status, 201, res.text);
  return res.json.Token;
}

function job(clusterId: string, command: string, count: number, extra: Record<string, unknown> = {}) {
  return {
    Name: 'on-agents',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    DAG: {
      Tasks: {
        work: {
          InstanceCount: count,
          MaxRetryCount: 0,
          Timeout: 120,
          ClusterId: clusterId,
          Parameters: {
            Command: { CommandLine: command, PackagePath: '', EnvVars: {} },
            StdoutRedirectPath: '',
            StderrRedirectPath: '',
          },
          ...extra,
        },
      },
      Dependencies: {},
    },
  };
}

function bearer(method: string, path: string, workerToken: string, body?: unknown): Promise<ApiResponse> {
  return fetch(shoal.url + path, {
    method,
    headers: { Authorization: `Bearer ${workerToken}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(async (r) => {
    const text = await r.text();
    return { status: r.status, headers: r.headers, text, json: text ? JSON.parse(text) : undefined };
  });
}

test('an agent joins a static cluster with a token and runs its tasks; logs and outputs reach the server', async () => {
  const id = await cluster('static-one', { group: { DesiredVMCount: 1 } });
  const agent = await agents.start(id, await token(id), ['--slots', '2']);
  const put = await shoal.api('PUT', '/objects/agent-data/in/a.txt', 'input for the agent\n');
  assert.equal(put.status, 201, put.text);
  const submitted = await shoal.api(
    'POST',
    '/jobs',
    job(
      id,
      '/bin/sh -c "cat /home/in/a.txt; echo $BATCH_COMPUTE_WORKER_ID > /home/out/w.$BATCH_COMPUTE_DAG_INSTANCE_ID"',
      3,
      {
        InputMapping: { 'oss://agent-data/in/': '/home/in/' },
        OutputMapping: { '/home/out/': 'oss://agent-data/out/' },
      },
    ),
  );
  assert.equal(submitted.status, 201, submitted.text);
  const done = await shoal.waitForJob(submitted.json.Id, ['Finished', 'Failed', 'Stopped'], 60_000);
  assert.equal(done.State, 'Finished', JSON.stringify(done));
  const instances = await shoal.api('GET', `/jobs/${submitted.json.Id}/tasks/work/instances`);
  for (const i of instances.json.Items) assert.equal(i.WorkerId, agent.id);
  const log = await shoal.api('GET', `/jobs/${submitted.json.Id}/tasks/work/instances/0/log?stream=stdout`);
  assert.equal(log.text, 'input for the agent\n');
  const out = await shoal.api('GET', '/objects/agent-data/out/w.1');
  assert.equal(out.text.trim(), agent.id);
  const vms = await shoal.api('GET', `/clusters/${id}/groups/group/instances`);
  assert.deepEqual(
    vms.json.Items.map((v: { Id: string; State: string }) => [v.Id, v.State]),
    [[agent.id, 'Running']],
  );
  assert.equal((await shoal.api('GET', `/clusters/${id}`)).json.Groups.group.ActualVMCount, 1);
});

test('worker tokens reach worker routes only, of their own cluster; user keys never reach them', async () => {
  const a = await cluster('lane-a', { group: { DesiredVMCount: 0 } });
  const b = await cluster('lane-b', { group: { DesiredVMCount: 0 } });
  const tokenA = await token(a);
  const register = { WorkerId: 'i-0123456789abcdef0123', Group: 'group', Hostname: 'h', Slots: 1 };

  const onUserRoute = await bearer('GET', '/jobs', tokenA);
  assert.equal(onUserRoute.status, 403, onUserRoute.text);
  assert.equal(onUserRoute.json.Code, 'Forbidden.WrongCredential');
  const otherCluster = await bearer('POST', `/clusters/${b}/workers`, tokenA, register);
  assert.equal(otherCluster.status, 403, otherCluster.text);
  const userKey = await shoal.api('POST', `/clusters/${a}/workers`, register);
  assert.equal(userKey.status, 400, userKey.text);
  assert.equal(userKey.json.Code, 'MissingAuthorization');
  const forged = await bearer('POST', `/clusters/${a}/workers`, `${tokenA.slice(0, -4)}AAAA`, register);
  assert.equal(forged.status, 400, forged.text);

  const joined = await bearer('POST', `/clusters/${a}/workers`, tokenA, register);
  assert.equal(joined.status, 201, joined.text);
  // The signal long poll holds the request until news or its WaitMs.
  const waitStart = Date.now();
  const quiet = await bearer('GET', `/clusters/${a}/workers/${register.WorkerId}/signals?WaitMs=600`, tokenA);
  assert.equal(quiet.status, 200, quiet.text);
  assert.ok(Date.now() - waitStart >= 500, `the long poll answered after ${Date.now() - waitStart} ms`);
  // B's work is not A's to claim, and A's worker reaches no object its attempts do not name.
  const jobOnB = await shoal.api('POST', '/jobs', job(b, '/bin/true', 1));
  assert.equal(jobOnB.status, 201, jobOnB.text);
  const claim = await bearer('POST', `/clusters/${a}/workers/${register.WorkerId}/exchange`, tokenA, {
    Want: 5,
  });
  assert.equal(claim.status, 200, claim.text);
  assert.deepEqual(claim.json.Assignments, []);
  await shoal.api('PUT', '/objects/secret-bucket/keys.txt', 'not for workers');
  const peek = await bearer(
    'GET',
    `/clusters/${a}/workers/${register.WorkerId}/objects/secret-bucket/keys.txt`,
    tokenA,
  );
  assert.equal(peek.status, 404, peek.text);
  const list = await bearer(
    'GET',
    `/clusters/${a}/workers/${register.WorkerId}/objects/secret-bucket`,
    tokenA,
  );
  assert.equal(list.status, 404, list.text);

  // A deleted token stops working.
  const tokens = await shoal.api('GET', `/clusters/${a}/tokens`);
  assert.equal(tokens.json.Items.length, 1);
  assert.equal(
    (await shoal.api('DELETE', `/clusters/${a}/tokens/${tokens.json.Items[0].TokenId}`)).status,
    200,
  );
  const after = await bearer('POST', `/clusters/${a}/workers/${register.WorkerId}/heartbeat`, tokenA, {
    AttemptIds: [],
  });
  assert.equal(after.status, 403, after.text);
  assert.equal((await shoal.api('POST', `/jobs/${jobOnB.json.Id}/stop`)).status, 201);
});

test('a worker claims ahead over HTTP and gives back what it will not start, Waiting again as if never claimed', async () => {
  const id = await cluster('ahead', { group: { DesiredVMCount: 0 } });
  const workerToken = await token(id);
  const worker = { WorkerId: 'i-00000000000000a0ead0', Group: 'group', Hostname: 'h', Slots: 1 };
  assert.equal((await bearer('POST', `/clusters/${id}/workers`, workerToken, worker)).status, 201);
  const submitted = await shoal.api('POST', '/jobs', job(id, '/bin/true', 4));
  assert.equal(submitted.status, 201, submitted.text);
  const exchange = (body: unknown) =>
    bearer('POST', `/clusters/${id}/workers/${worker.WorkerId}/exchange`, workerToken, body);
  const claim = await exchange({ Want: 4, Ahead: 3 });
  assert.equal(claim.status, 200, claim.text);
  const ids = claim.json.Assignments.map((a: { attemptId: string }) => a.attemptId);
  assert.equal(ids.length, 4);
  const bad = await exchange({ Want: 0, Returned: 'not a list' });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.text, /Returned/);
  const back = await exchange({ Want: 0, Returned: ids.slice(1) });
  assert.equal(back.status, 200, back.text);
  const metrics = (await shoal.api('GET', `/jobs/${submitted.json.Id}`)).json.InstanceMetrics;
  assert.equal(metrics.RunningCount, 1);
  assert.equal(metrics.WaitingCount, 3);
  const returned = (await shoal.api('GET', `/jobs/${submitted.json.Id}/tasks/work/instances/3`)).json;
  assert.equal(returned.State, 'Waiting');
  assert.equal(returned.AttemptCount, 0);
  assert.equal((await shoal.api('POST', `/jobs/${submitted.json.Id}/stop`)).status, 201);
});

test('three agents in two groups run 300 instances; one killed with SIGKILL mid-run loses nothing', async () => {
  const id = await cluster('two-groups', { small: { DesiredVMCount: 2 }, large: { DesiredVMCount: 1 } });
  const workerToken = await token(id);
  const first = await agents.start(id, workerToken, ['--group', 'small', '--slots', '2']);
  const second = await agents.start(id, workerToken, ['--group', 'small', '--slots', '2']);
  const third = await agents.start(id, workerToken, ['--group', 'large', '--slots', '2']);
  const submitted = await shoal.api('POST', '/jobs', job(id, '/bin/sleep 0.1', 300));
  assert.equal(submitted.status, 201, submitted.text);
  const jobId = submitted.json.Id as string;
  // Once the victim has finished a few, kill it mid-run.
  for (let i = 0; i < 600; i++) {
    const list = await shoal.api(
      'GET',
      `/jobs/${jobId}/tasks/work/instances?MaxItemCount=200&State=Finished`,
    );
    if (list.json.Items.some((x: { WorkerId: string }) => x.WorkerId === second.id)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  second.proc.kill('SIGKILL');
  const done = await shoal.waitForJob(jobId, ['Finished', 'Failed', 'Stopped'], 180_000);
  assert.equal(done.State, 'Finished', JSON.stringify(done));
  const seen = new Map<
    number,
    { State: string; RetryCount: number; WorkerId: string; AttemptCount: number }
  >();
  let marker = '';
  do {
    const page = await shoal.api(
      'GET',
      `/jobs/${jobId}/tasks/work/instances?MaxItemCount=200&Marker=${marker}`,
    );
    for (const i of page.json.Items) seen.set(i.InstanceId, i);
    marker = page.json.NextMarker;
  } while (marker);
  assert.equal(seen.size, 300);
  const byWorker = new Map<string, number>();
  for (const i of seen.values()) {
    assert.equal(i.State, 'Finished');
    assert.equal(i.RetryCount, 0);
    byWorker.set(i.WorkerId, (byWorker.get(i.WorkerId) ?? 0) + 1);
  }
  assert.ok(
    (byWorker.get(first.id) ?? 0) > 0 && (byWorker.get(third.id) ?? 0) > 0,
    JSON.stringify([...byWorker]),
  );
  // The kill cut attempts off: they ran again elsewhere, as attempts that used no retry.
  const rerun = [...seen.values()].filter((i) => i.AttemptCount > 1);
  assert.ok(rerun.length >= 1, 'no attempt of the killed agent was cut off');
  for (const i of rerun) assert.notEqual(i.WorkerId, second.id);
  const vms = await shoal.api('GET', `/clusters/${id}/groups/small/instances`);
  const victim = vms.json.Items.find((v: { Id: string }) => v.Id === second.id);
  assert.equal(victim?.State, 'Stopped');
  const groups = (await shoal.api('GET', `/clusters/${id}`)).json.Groups;
  assert.equal(groups.large.ActualVMCount, 1);
});

test('a local cluster: the server keeps DesiredVMCount agents running, and drains those it no longer wants', async () => {
  const created = await shoal.api('POST', '/clusters', {
    Name: 'local-two',
    ImageId: 'img-ubuntu',
    InstanceType: 'shoal.local',
    Provider: 'local',
    Groups: { group: { DesiredVMCount: 2 } },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.Id as string;
  const actual = async () => (await shoal.api('GET', `/clusters/${id}`)).json.Groups.group.ActualVMCount;
  const until = async (want: number) => {
    for (let i = 0; i < 300 && (await actual()) !== want; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await actual(), want);
  };
  await until(2);
  const submitted = await shoal.api('POST', '/jobs', job(id, '/bin/echo local', 6));
  assert.equal((await shoal.waitForJob(submitted.json.Id, ['Finished', 'Failed'], 60_000)).State, 'Finished');
  const resized = await shoal.api('PUT', `/clusters/${id}`, { Groups: { group: { DesiredVMCount: 1 } } });
  assert.equal(resized.status, 200, resized.text);
  await until(1);
  const stopped = await shoal.api('PUT', `/clusters/${id}`, { Groups: { group: { DesiredVMCount: 0 } } });
  assert.equal(stopped.status, 200, stopped.text);
  await until(0);
  assert.equal((await shoal.api('DELETE', `/clusters/${id}`)).status, 200);
});
