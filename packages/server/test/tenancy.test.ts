/**
 * Two users A and B: every route B calls on A's job, tasks, instances, logs and objects answers
 * 404 InvalidResource.NotFound, as if they did not exist; the admin sees everything.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { signedFetch, simpleJob, startTestShoal, type ApiResponse, type TestShoal } from './helpers.js';

type Call = (
  method: string,
  target: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<ApiResponse>;

let shoal: TestShoal;
let a: Call;
let b: Call;
let jobId: string;

async function userKey(name: string): Promise<Call> {
  const created = await shoal.api('POST', '/users', { Name: name });
  assert.equal(created.status, 201, created.text);
  const key = await shoal.api('POST', `/users/${name}/keys`);
  assert.equal(key.status, 201, key.text);
  return (method, target, body, headers) =>
    signedFetch(shoal.url, key.json.AccessKeyId, key.json.AccessKeySecret, method, target, body, headers);
}

before(async () => {
  // No local worker: A's job stays Waiting, so every task and instance route has something to find.
  shoal = await startTestShoal({ slots: 0 });
  a = await userKey('usera');
  b = await userKey('userb');
  const put = await a('PUT', '/objects/bucket-a/data/in.txt', 'hello from A');
  assert.equal(put.status, 201, put.text);
  const job = await a(
    'POST',
    '/jobs',
    simpleJob('echo hi', {
      Parameters: {
        Command: { CommandLine: 'echo hi', PackagePath: '', EnvVars: {} },
        InputMappingConfig: { Locale: 'GBK', Lock: false },
        StdoutRedirectPath: 'oss://bucket-a/logs/',
        StderrRedirectPath: 'oss://bucket-a/logs/',
      },
    }),
  );
  assert.equal(job.status, 201, job.text);
  jobId = job.json.Id;
});
after(() => shoal.cleanup());

function assertHidden(res: ApiResponse, what: string): void {
  assert.equal(res.status, 404, `${what}: ${res.status} ${res.text}`);
  if (res.text) assert.equal(res.json.Code, 'InvalidResource.NotFound', what);
}

test("B gets NotFound on every route of A's job", async () => {
  assert.equal((await a('GET', `/jobs/${jobId}`)).status, 200);
  const base = `/jobs/${jobId}`;
  const routes: [string, string, unknown?][] = [
    ['GET', base],
    ['GET', `${base}?description`],
    ['POST', `${base}/stop`],
    ['POST', `${base}/start`],
    ['PUT', base, { Priority: 5 }],
    ['DELETE', base],
    ['GET', `${base}/tasks`],
    ['GET', `${base}/tasks/task`],
    ['GET', `${base}/tasks/task/instances`],
    ['GET', `${base}/tasks/task/instances/0`],
    ['GET', `${base}/tasks/task/instances/0/log`],
    ['GET', `${base}/tasks/task/instances/0/log?stream=stderr`],
  ];
  for (const [method, target, body] of routes)
    assertHidden(await b(method, target, body), `${method} ${target}`);
  const job = (await a('GET', base)).json;
  assert.equal(job.State, 'Waiting', "B's calls changed nothing");
  assert.equal(job.Priority, 1);
  assert.equal((await a('GET', `${base}/tasks/task/instances/0/log`)).status, 200, 'A reads its own log');
});

test("B's job list and event feed hold nothing of A's; the admin's hold everything", async () => {
  const listB = await b('GET', '/jobs');
  assert.equal(listB.status, 200);
  assert.ok(!listB.json.Items.some((j: { Id: string }) => j.Id === jobId));
  assert.ok((await a('GET', '/jobs')).json.Items.some((j: { Id: string }) => j.Id === jobId));
  assert.ok(
    (await shoal.api('GET', '/jobs')).json.Items.some(
      (j: { Id: string; OwnerId: number }) => j.Id === jobId && j.OwnerId > 1,
    ),
  );
  const eventsB = await b('GET', '/events');
  assert.equal(eventsB.status, 200);
  assert.ok(!eventsB.json.Items.some((e: { JobId: string }) => e.JobId === jobId));
  assert.ok((await a('GET', '/events')).json.Items.some((e: { JobId: string }) => e.JobId === jobId));
  assert.ok((await shoal.api('GET', '/events')).json.Items.some((e: { JobId: string }) => e.JobId === jobId));
  assert.equal((await shoal.api('GET', `/jobs/${jobId}/tasks/task/instances/0`)).status, 200);
});

test("B gets NotFound on every object route of A's bucket, also when writing a new object", async () => {
  const key = '/objects/bucket-a/data/in.txt';
  const routes: [string, string, unknown?][] = [
    ['GET', key],
    ['HEAD', key],
    ['PUT', key, 'overwritten by B'],
    ['PUT', '/objects/bucket-a/data/new.txt', 'planted by B'],
    ['DELETE', key],
    ['GET', '/objects/bucket-a'],
    ['GET', '/objects/bucket-a?Prefix=data/'],
    ['GET', `${key}?Presign=true&Expires=60`],
    ['POST', `${key}?presign&Method=GET&Expires=60`],
    ['POST', `/objects/bucket-a/data/new.txt?presign&Method=PUT`],
  ];
  for (const [method, target, body] of routes)
    assertHidden(await b(method, target, body), `${method} ${target}`);
  assert.equal((await a('GET', key)).text, 'hello from A', "A's object is untouched");
  assert.equal((await a('GET', '/objects/bucket-a/data/new.txt')).status, 404, 'nothing was planted');
  assert.deepEqual(
    (await a('GET', '/objects/bucket-a?Prefix=data/')).json.Items.map((o: { Key: string }) => o.Key),
    ['data/in.txt'],
  );
  assert.equal((await shoal.api('GET', key)).text, 'hello from A', 'the admin reads any bucket');
});

test("a job naming another user's bucket is refused at submit, unless the admin submits it", async () => {
  const job = simpleJob('cat /x', { InputMapping: { 'oss://bucket-a/data/': 'input/' } });
  const res = await b('POST', '/jobs', job);
  assert.equal(res.status, 400, res.text);
  assert.equal(res.json.Code, 'InvalidJobDescription');
  assert.match(res.json.Message, /InputMapping/);
  assert.equal((await shoal.api('POST', '/jobs', job)).status, 201);
  const own = await b('PUT', '/objects/bucket-b/x', 'mine');
  assert.equal(own.status, 201, 'B writes to a bucket of its own');
  assert.equal(
    (await b('POST', '/jobs', simpleJob('cat /x', { InputMapping: { 'oss://bucket-b/': 'input/' } }))).status,
    201,
  );
});

test('presign on the local backend is 400 UnsupportedOperation', async () => {
  const res = await a('POST', '/objects/bucket-a/data/in.txt?presign&Method=GET&Expires=60');
  assert.equal(res.status, 400);
  assert.equal(res.json.Code, 'UnsupportedOperation');
  assert.match(res.json.Message, /local backend/);
});
