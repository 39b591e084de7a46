/** Images through the API: system images, a user's own, ownership, and what a task resolves at submit. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  signedFetch,
  simpleJob,
  startTestShoal,
  taskDescription,
  type ApiResponse,
  type TestShoal,
} from './helpers.js';

type Call = (method: string, target: string, body?: unknown) => Promise<ApiResponse>;

let shoal: TestShoal;
let alice: Call;
let bob: Call;

async function user(name: string): Promise<Call> {
  assert.equal((await shoal.api('POST', '/users', { Name: name })).status, 201);
  const key = (await shoal.api('POST', `/users/${name}/keys`)).json;
  return (method, target, body) =>
    signedFetch(shoal.url, key.AccessKeyId, key.AccessKeySecret, method, target, body);
}

before(async () => {
  shoal = await startTestShoal({ slots: 0 });
  alice = await user('alice');
  bob = await user('bob');
  assert.equal((await alice('PUT', '/objects/alice-images/rootfs.tar.gz', 'x')).status, 201);
});

after(async () => {
  await shoal.cleanup();
});

test('GET /images?Type=System lists the built-in images, which name the worker OS', async () => {
  const res = await alice('GET', '/images?Type=System');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.Items[0].Id, 'img-ubuntu');
  assert.equal(res.json.Items[0].Type, 'System');
  assert.equal(res.json.Items[0].Kind, 'System');
  assert.equal((await alice('GET', '/images/img-centos')).json.Kind, 'System');
  const page = await alice('GET', '/images?Type=System&MaxItemCount=2');
  assert.equal(page.json.Items.length, 2);
  assert.equal(page.json.NextMarker, page.json.Items[1].Id);
});

test('a user registers a root filesystem image, sees it, and only they (and the admin) do', async () => {
  const created = await alice('POST', '/images?IdempotentToken=t1', {
    Name: 'py311',
    Description: 'python',
    Platform: 'Linux',
    EcsImageId: 'oss://alice-images/rootfs.tar.gz',
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.Id as string;
  assert.match(id, /^img-[a-z0-9]{20}$/);
  const again = await alice('POST', '/images?IdempotentToken=t1', {
    Name: 'py311',
    Platform: 'Linux',
    EcsImageId: 'oss://alice-images/rootfs.tar.gz',
  });
  assert.equal(again.json.Id, id);
  const got = await alice('GET', `/images/${id}`);
  assert.deepEqual(
    { ...got.json, CreationTime: undefined },
    {
      Id: id,
      Name: 'py311',
      Type: 'Self',
      Description: 'python',
      EcsImageId: 'oss://alice-images/rootfs.tar.gz',
      OwnerId: got.json.OwnerId,
      Platform: 'Linux',
      CreationTime: undefined,
      Kind: 'RootFs',
      Source: 'oss://alice-images/rootfs.tar.gz',
      ArchivePath: '',
    },
  );
  assert.deepEqual(
    (await alice('GET', '/images')).json.Items.map((i: { Id: string }) => i.Id),
    [id],
  );
  assert.equal((await bob('GET', `/images/${id}`)).status, 404);
  assert.deepEqual((await bob('GET', '/images')).json.Items, []);
  assert.equal((await bob('DELETE', `/images/${id}`)).status, 404);
  assert.equal((await shoal.api('GET', `/images/${id}`)).status, 200);

  // A task may name it (alice's), and another user's job may not.
  const job = simpleJob('/bin/true');
  job.DAG.Tasks.task = taskDescription('/bin/true', '', { AutoCluster: { ImageId: id, InstanceType: '' } });
  assert.equal((await alice('POST', '/jobs', job)).status, 201);
  const refused = await bob('POST', '/jobs', job);
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.json.Message, /DAG\.Tasks\.task\.AutoCluster\.ImageId .*must be one of your images/);

  assert.equal((await alice('DELETE', `/images/${id}`)).status, 200);
  assert.equal((await alice('GET', `/images/${id}`)).status, 404);
  assert.equal((await alice('DELETE', '/images/img-ubuntu')).status, 409);
});

test('image descriptions are checked, naming the field', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ Platform: 'Linux', EcsImageId: 'oss://alice-images/rootfs.tar.gz' }, /Name/],
    [
      { Name: 'w', Platform: 'Windows', EcsImageId: 'oss://alice-images/rootfs.tar.gz' },
      /Platform .*must be Linux/,
    ],
    [{ Name: 'm', EcsImageId: 'm-2ze0xyz' }, /EcsImageId .*must be an oss:\/\/ or s3:\/\/ object/],
    [
      { Name: 'z', EcsImageId: 'oss://alice-images/rootfs.zip' },
      /must name a \.tar, \.tar\.gz or \.tgz archive/,
    ],
    [{ Name: 'd', EcsImageId: 'docker://-v/etc:/x' }, /EcsImageId .*must be a Docker image reference/],
    [{ Name: 'd', Docker: { Image: 'Ubuntu' } }, /Docker\.Image .*must be a Docker image reference/],
  ];
  for (const [body, message] of cases) {
    const res = await alice('POST', '/images', body);
    assert.equal(res.status, 400, res.text);
    assert.match(res.json.Message, message);
  }
  // Another user's bucket is no source.
  const foreign = await bob('POST', '/images', {
    Name: 'steal',
    EcsImageId: 'oss://alice-images/rootfs.tar.gz',
  });
  assert.equal(foreign.status, 404, foreign.text);
});

test('a Docker image is refused at submit when no worker has a Docker engine', async () => {
  const job = simpleJob('/bin/true');
  job.DAG.Tasks.task = taskDescription('/bin/true', '', {
    Parameters: {
      Command: {
        CommandLine: '/bin/true',
        PackagePath: '',
        EnvVars: { BATCH_COMPUTE_DOCKER_IMAGE: 'ubuntu:22.04' },
      },
      StdoutRedirectPath: '',
      StderrRedirectPath: '',
    },
  });
  const res = await alice('POST', '/jobs', job);
  assert.equal(res.status, 400, res.text);
  assert.match(
    res.json.Message,
    /Parameters\.Command .*names a Docker image, but no worker of this server has a Docker engine/,
  );
  const bad = simpleJob('/bin/true');
  bad.DAG.Tasks.task = taskDescription('/bin/true', '', {
    Parameters: {
      Command: {
        CommandLine: '/bin/true',
        PackagePath: '',
        EnvVars: { BATCH_COMPUTE_DOCKER_IMAGE: '--privileged' },
      },
      StdoutRedirectPath: '',
      StderrRedirectPath: '',
    },
  });
  const invalid = await alice('POST', '/jobs', bad);
  assert.equal(invalid.status, 400);
  assert.match(
    invalid.json.Message,
    /EnvVars\.BATCH_COMPUTE_DOCKER_IMAGE .*must be a Docker image reference/,
  );
});
