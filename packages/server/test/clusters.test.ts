/**
 * Clusters over the API (spec §4 rows 13–20): the default cluster every server has, a user's own
 * clusters (create, list with paging, get, modify, delete), who sees and changes which, and where the
 * tasks that name a cluster run.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { signedFetch, simpleJob, startTestShoal, type ApiResponse, type TestShoal } from './helpers.js';

type Call = (method: string, target: string, body?: unknown) => Promise<ApiResponse>;

let shoal: TestShoal;
let alice: Call;
let bob: Call;

async function userKey(name: string): Promise<Call> {
  const created = await shoal.api('POST', '/users', { Name: name });
  assert.equal(created.status, 201, created.text);
  const key = await shoal.api('POST', `/users/${name}/keys`);
  assert.equal(key.status, 201, key.text);
  return (method, target, body) =>
    signedFetch(shoal.url, key.json.AccessKeyId, key.json.AccessKeySecret, method, target, body);
}

const description = (name: string, groups: Record<string, unknown> = { workers: { DesiredVMCount: 2 } }) => ({
  Name: name,
  Description: `cluster ${name}`,
  ImageId: 'img-ubuntu',
  InstanceType: 'shoal.local',
  Groups: groups,
});

function onCluster(clusterId: string, command = '/bin/true') {
  return simpleJob(command, { ClusterId: clusterId, AutoCluster: {} });
}

before(async () => {
  shoal = await startTestShoal({ slots: 1 });
  alice = await userKey('alice');
  bob = await userKey('bob');
});
after(() => shoal.cleanup());

test('every server has the default cluster cls-local, holding its embedded worker', async () => {
  const got = await alice('GET', '/clusters/cls-local');
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.State, 'Active');
  assert.equal(got.json.OwnerId, 0);
  const group = got.json.Groups.group;
  assert.equal(group.DesiredVMCount, 1);
  assert.equal(group.ActualVMCount, 1);
  assert.equal(group.InstanceType, 'shoal.local');
  assert.equal(got.json.Metrics.RunningCount, 1);
  const vms = await alice('GET', '/clusters/cls-local/groups/group/instances');
  assert.equal(vms.status, 200, vms.text);
  assert.equal(vms.json.Items.length, 1);
  assert.match(vms.json.Items[0].Id, /^i-/);
  assert.equal(vms.json.Items[0].State, 'Running');
  const vm = await alice('GET', `/clusters/cls-local/groups/group/instances/${vms.json.Items[0].Id}`);
  assert.equal(vm.status, 200, vm.text);
  assert.equal(vm.json.HostName, vms.json.Items[0].HostName);

  // It belongs to the service: users run on it but only the admin may change it, and nobody deletes it.
  const change = await alice('PUT', '/clusters/cls-local', { UserData: { a: 'b' } });
  assert.equal(change.status, 403, change.text);
  const resize = await shoal.api('PUT', '/clusters/cls-local', { Groups: { group: { DesiredVMCount: 3 } } });
  assert.equal(resize.status, 400, resize.text);
  assert.match(resize.json.Message, /--slots/);
  const del = await shoal.api('DELETE', '/clusters/cls-local');
  assert.equal(del.status, 409, del.text);

  const job = await alice('POST', '/jobs', onCluster('cls-local', '/bin/echo on-default'));
  assert.equal(job.status, 201, job.text);
  assert.equal((await shoal.waitForJob(job.json.Id)).State, 'Finished');

  // A worker's load: what it runs now, against its slots.
  const busy = await alice('POST', '/jobs', onCluster('cls-local', '/bin/sleep 30'));
  await shoal.waitForJob(busy.json.Id, ['Running']);
  const loaded = await alice('GET', `/clusters/cls-local/groups/group/instances/${vms.json.Items[0].Id}`);
  assert.equal(loaded.json.RunningInstances, 1);
  assert.equal(
    (await alice('GET', '/clusters/cls-local/groups/group/instances')).json.Items[0].RunningInstances,
    1,
  );
  await alice('POST', `/jobs/${busy.json.Id}/stop`);
});

test('a user creates, lists, reads, resizes and deletes a cluster; errors name the field', async () => {
  const created = await alice('POST', '/clusters', description('render'));
  assert.equal(created.status, 201, created.text);
  const id: string = created.json.Id;
  assert.match(id, /^cls-[a-z0-9]{22}$/);

  const got = await alice('GET', `/clusters/${id}`);
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.Name, 'render');
  assert.equal(got.json.Description, 'cluster render');
  assert.equal(got.json.Provider, 'static');
  assert.deepEqual(got.json.Groups.workers, {
    DesiredVMCount: 2,
    ActualVMCount: 0,
    InstanceType: 'shoal.local',
    ResourceType: 'OnDemand',
    SpotStrategy: '',
    SpotPriceLimit: 0,
    Disks: {},
  });

  const resized = await alice('PUT', `/clusters/${id}`, { Groups: { workers: { DesiredVMCount: 5 } } });
  assert.equal(resized.status, 200, resized.text);
  assert.equal((await alice('GET', `/clusters/${id}`)).json.Groups.workers.DesiredVMCount, 5);
  const env = await alice('PUT', `/clusters/${id}`, { EnvVars: { STAGE: 'prod' } });
  assert.equal(env.status, 200, env.text);
  assert.deepEqual((await alice('GET', `/clusters/${id}`)).json.EnvVars, { STAGE: 'prod' });
  const mapping = await alice('PUT', `/clusters/${id}`, { InputMapping: { 'oss://b/ref/': '/ref' } });
  assert.equal(mapping.status, 200, mapping.text);
  assert.deepEqual((await alice('GET', `/clusters/${id}`)).json.InputMapping, { 'oss://b/ref/': '/ref' });

  const cases: [unknown, number, RegExp][] = [
    [{ ...description('x'), Name: '' }, 400, /Name is missing/],
    [{ ...description('x'), ImageId: 'img-nope' }, 400, /ImageId .*img-nope/],
    [{ ...description('x'), InstanceType: 'bcs.huge' }, 400, /InstanceType .*bcs\.huge/],
    [description('x', {}), 400, /Groups is missing/],
    [description('x', { g: { DesiredVMCount: -1 } }), 400, /Groups\.g\.DesiredVMCount .*-1/],
    [description('x', { g: { DesiredVMCount: 1, ResourceType: 'Cheap' } }), 400, /Groups\.g\.ResourceType/],
    [description('x', { 'bad name': { DesiredVMCount: 1 } }), 400, /Groups\.bad name/],
    [{ ...description('x'), Provider: 'cloud' }, 400, /Provider .*cloud/],
  ];
  for (const [body, status, message] of cases) {
    const res = await alice('POST', '/clusters', body);
    assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
    assert.match(res.json.Message, message);
  }
  const badGroup = await alice('PUT', `/clusters/${id}`, { Groups: { nope: { DesiredVMCount: 1 } } });
  assert.equal(badGroup.status, 400, badGroup.text);
  assert.match(badGroup.json.Message, /Groups\.nope .*its groups: workers/);
  const badKey = await alice('PUT', `/clusters/${id}`, { Name: 'renamed' });
  assert.equal(badKey.status, 400, badKey.text);

  const deleted = await alice('DELETE', `/clusters/${id}`);
  assert.equal(deleted.status, 200, deleted.text);
  assert.equal((await alice('GET', `/clusters/${id}`)).status, 404);
});

test('clusters list by id in pages; users see their own and the default, the admin all', async () => {
  const ids: string[] = [];
  for (const name of ['a1', 'a2', 'a3'])
    ids.push((await alice('POST', '/clusters', description(name))).json.Id);
  const bobs = (await bob('POST', '/clusters', description('b1'))).json.Id as string;

  const seen: string[] = [];
  let marker = '';
  for (let pages = 0; pages < 10; pages++) {
    const res = await alice('GET', `/clusters?MaxItemCount=2&Marker=${marker}`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.Items.length <= 2);
    seen.push(...res.json.Items.map((c: { Id: string }) => c.Id));
    marker = res.json.NextMarker;
    if (!marker) break;
  }
  assert.deepEqual(seen, [...ids, 'cls-local'].sort());
  const all = await shoal.api('GET', '/clusters?MaxItemCount=100');
  assert.ok(all.json.Items.some((c: { Id: string }) => c.Id === bobs));

  // Bob cannot see, change, delete or run on Alice's cluster: it does not exist for him.
  for (const [method, body] of [
    ['GET', undefined],
    ['PUT', { EnvVars: {} }],
    ['DELETE', undefined],
  ] as const) {
    const res = await bob(method, `/clusters/${ids[0]}`, body);
    assert.equal(res.status, 404, `${method}: ${res.text}`);
  }
  const job = await bob('POST', '/jobs', onCluster(ids[0]!));
  assert.equal(job.status, 400, job.text);
  assert.match(job.json.Message, /DAG\.Tasks\.task\.ClusterId .*cls-/);
  const unknown = await alice('POST', '/jobs', onCluster('cls-doesnotexist'));
  assert.equal(unknown.status, 400, unknown.text);
  assert.match(unknown.json.Message, /ClusterId .*cls-doesnotexist/);
  // The admin may change anyone's cluster.
  assert.equal((await shoal.api('PUT', `/clusters/${bobs}`, { UserData: { by: 'admin' } })).status, 200);
});

test("a task on a cluster without workers waits; the embedded worker does not take it; the cluster can't go while it waits", async () => {
  const id = (await alice('POST', '/clusters', description('empty'))).json.Id as string;
  const job = await alice('POST', '/jobs', onCluster(id, '/bin/echo never'));
  assert.equal(job.status, 201, job.text);
  // Meanwhile the default cluster still runs its work.
  const other = await alice('POST', '/jobs', simpleJob('/bin/echo default'));
  assert.equal((await shoal.waitForJob(other.json.Id)).State, 'Finished');
  assert.equal((await alice('GET', `/jobs/${job.json.Id}`)).json.State, 'Waiting');

  const busy = await alice('DELETE', `/clusters/${id}`);
  assert.equal(busy.status, 409, busy.text);
  assert.match(busy.json.Message, new RegExp(job.json.Id));
  assert.equal((await alice('POST', `/jobs/${job.json.Id}/stop`)).status, 201);
  await shoal.waitForJob(job.json.Id, ['Stopped']);
  const gone = await alice('DELETE', `/clusters/${id}`);
  assert.equal(gone.status, 200, gone.text);
});

test('an IdempotentToken makes a repeated create return the first cluster', async () => {
  const first = await alice('POST', '/clusters?IdempotentToken=tok-1', description('once'));
  const again = await alice('POST', '/clusters?IdempotentToken=tok-1', description('once'));
  assert.equal(first.status, 201, first.text);
  assert.equal(again.json.Id, first.json.Id);
});
