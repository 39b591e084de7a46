/**
 * Every validation rule of the issue through the real HTTP API: status, Code, and a message that names the
 * field and the bad value. A rejected job is never half-written.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { simpleJob, startTestShoal, type TestShoal } from './helpers.js';

let shoal: TestShoal;
before(async () => {
  shoal = await startTestShoal({ slots: 0 });
});
after(() => shoal.cleanup());

// Job descriptions are free-form JSON here: the tests break them on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJob = any;
type Mutate = (job: AnyJob) => void;

const dagJob = (): AnyJob => {
  const job: AnyJob = simpleJob('/bin/true');
  const base = job.DAG.Tasks.task;
  job.DAG.Tasks = {
    split: structuredClone(base),
    count: { ...structuredClone(base), InstanceCount: 3 },
    merge: structuredClone(base),
  };
  job.DAG.Dependencies = { split: ['count'], count: ['merge'] };
  return job;
};

const cases: [string, Mutate, number, string, RegExp][] = [
  [
    'unknown task in Dependencies',
    (j) => (j.DAG.Dependencies = { split: ['counter'] }),
    400,
    'InvalidJobDescription',
    /DAG\.Dependencies\.split\[0\].*"counter"/,
  ],
  [
    'unknown task as a Dependencies key',
    (j) => (j.DAG.Dependencies = { nope: ['count'] }),
    400,
    'InvalidJobDescription',
    /DAG\.Dependencies\.nope/,
  ],
  [
    'a cycle',
    (j) => (j.DAG.Dependencies = { split: ['count'], count: ['merge'], merge: ['split'] }),
    400,
    'InvalidJobDescription',
    /(split|count|merge) -> .* -> /,
  ],
  ['a bad job name', (j) => (j.Name = 'has space'), 400, 'InvalidJobDescription', /Name.*"has space"/],
  [
    'a bad task name',
    (j) => (j.DAG.Tasks = { 'bad.name': j.DAG.Tasks.split }),
    400,
    'InvalidJobDescription',
    /bad\.name/,
  ],
  ['a missing Name', (j) => delete j.Name, 400, 'MissingParameter', /Name/],
  [
    'InstanceCount 0',
    (j) => (j.DAG.Tasks.count.InstanceCount = 0),
    400,
    'InvalidJobDescription',
    /DAG\.Tasks\.count\.InstanceCount.*0/,
  ],
  [
    'InstanceCount -1',
    (j) => (j.DAG.Tasks.count.InstanceCount = -1),
    400,
    'InvalidJobDescription',
    /DAG\.Tasks\.count\.InstanceCount.*-1/,
  ],
  [
    'negative Timeout',
    (j) => (j.DAG.Tasks.split.Timeout = -5),
    400,
    'InvalidJobDescription',
    /DAG\.Tasks\.split\.Timeout.*-5/,
  ],
  [
    'non-numeric Timeout',
    (j) => (j.DAG.Tasks.split.Timeout = 'soon'),
    400,
    'InvalidJobDescription',
    /DAG\.Tasks\.split\.Timeout.*"soon"/,
  ],
  [
    'negative MaxRetryCount',
    (j) => (j.DAG.Tasks.merge.MaxRetryCount = -1),
    400,
    'InvalidJobDescription',
    /DAG\.Tasks\.merge\.MaxRetryCount.*-1/,
  ],
  [
    'non-numeric MaxRetryCount',
    (j) => (j.DAG.Tasks.merge.MaxRetryCount = 'x'),
    400,
    'InvalidJobDescription',
    /DAG\.Tasks\.merge\.MaxRetryCount.*"x"/,
  ],
  ['Priority above range', (j) => (j.Priority = 1001), 400, 'InvalidJobDescription', /Priority.*1001/],
  ['Priority below range', (j) => (j.Priority = -1), 400, 'InvalidJobDescription', /Priority.*-1/],
  [
    'both ClusterId and AutoCluster',
    (j) => (j.DAG.Tasks.split.ClusterId = 'cls-abc'),
    400,
    'InvalidJobDescription',
    /DAG\.Tasks\.split\.ClusterId.*not both/,
  ],
  [
    'neither ClusterId nor AutoCluster',
    (j) => {
      delete j.DAG.Tasks.split.ClusterId;
      delete j.DAG.Tasks.split.AutoCluster;
    },
    400,
    'InvalidJobDescription',
    /DAG\.Tasks\.split.*ClusterId or AutoCluster/,
  ],
  [
    'a malformed oss:// input path',
    (j) => (j.DAG.Tasks.count.InputMapping = { 'oss:/bucket/x/': '/home/input/' }),
    400,
    'InvalidJobDescription',
    /InputMapping.*oss:\/bucket\/x\//,
  ],
  [
    'a malformed PackagePath',
    (j) => (j.DAG.Tasks.count.Parameters.Command.PackagePath = 'http://example/p.tar.gz'),
    400,
    'InvalidJobDescription',
    /PackagePath.*http:\/\/example\/p\.tar\.gz/,
  ],
  [
    'a malformed StdoutRedirectPath',
    (j) => (j.DAG.Tasks.count.Parameters.StdoutRedirectPath = 'oss://B/logs/'),
    400,
    'InvalidJobDescription',
    /StdoutRedirectPath.*oss:\/\/B\/logs\//,
  ],
  [
    'the same local dir for input and output',
    (j) => {
      j.DAG.Tasks.count.InputMapping = { 'oss://bucket/in/': '/home/data/' };
      j.DAG.Tasks.count.OutputMapping = { '/home/data/': 'oss://bucket/out/' };
    },
    400,
    'InvalidJobDescription',
    /\/home\/data/,
  ],
  [
    'two oss sources on one local dir',
    (j) =>
      (j.DAG.Tasks.count.InputMapping = { 'oss://bucket/a/': '/home/in/', 'oss://bucket/b/': '/home/in/' }),
    400,
    'InvalidJobDescription',
    /\/home\/in/,
  ],
  [
    'an empty CommandLine',
    (j) => (j.DAG.Tasks.count.Parameters.Command.CommandLine = ''),
    400,
    'InvalidJobDescription',
    /CommandLine/,
  ],
  ['no tasks', (j) => (j.DAG.Tasks = {}), 400, 'InvalidJobDescription', /DAG\.Tasks/],
  ['App jobs', (j) => (j.Type = 'App'), 400, 'InvalidJobDescription', /Type.*"App"/],
];

for (const [name, mutate, status, code, message] of cases) {
  test(`rejects ${name}`, async () => {
    const job = dagJob();
    mutate(job);
    const res = await shoal.api('POST', '/jobs', job);
    assert.equal(res.status, status, res.text);
    assert.equal(res.json.Code, code, res.text);
    assert.match(res.json.Message, message);
    assert.equal(res.json.RequestId, res.headers.get('x-acs-request-id'));
    assert.equal(typeof res.json.HostId, 'string');
  });
}

test('accepts the CLI form ClusterId:"" with AutoCluster, and the baseline', async () => {
  const res = await shoal.api('POST', '/jobs', dagJob());
  assert.equal(res.status, 201, res.text);
  assert.match(res.json.Id, /^job-/);
});

test('malformed JSON is a 400 MalformedJSON, and nothing is half-written', async () => {
  const before = (await shoal.api('GET', '/jobs?MaxItemCount=100')).json.Items.length;
  const res = await shoal.api('POST', '/jobs', '{"Name": "x", ');
  assert.equal(res.status, 400);
  assert.equal(res.json.Code, 'MalformedJSON');
  for (const [, mutate] of cases) {
    const job = dagJob();
    mutate(job);
    await shoal.api('POST', '/jobs', job);
  }
  const afterCount = (await shoal.api('GET', '/jobs?MaxItemCount=100')).json.Items.length;
  assert.equal(afterCount, before);
});

test('list parameters are validated', async () => {
  let res = await shoal.api('GET', '/jobs?MaxItemCount=abc');
  assert.equal(res.status, 400);
  assert.equal(res.json.Code, 'InvalidMaxItemCount');
  assert.match(res.json.Message, /it must be a whole number from 1 to 100 .*, got "abc"/);
  res = await shoal.api('GET', '/jobs?MaxItemCount=101');
  assert.equal(res.json.Code, 'InvalidMaxItemCount');
  assert.match(res.json.Message, /it must be a whole number from 1 to 100 .*, got "101"/);
  res = await shoal.api('GET', '/jobs?State=Sleeping');
  assert.equal(res.status, 400);
  assert.equal(res.json.Code, 'InvalidParameter');
  assert.match(res.json.Message, /State.*"Sleeping"/);
  res = await shoal.api('GET', '/jobs?Marker=job-DOESNOTEXIST');
  assert.equal(res.json.Code, 'InvalidParameter');
  assert.match(res.json.Message, /Marker/);
  res = await shoal.api('PUT', `/jobs/${(await shoal.api('POST', '/jobs', dagJob())).json.Id}`, {
    Priority: 5000,
  });
  assert.equal(res.status, 400);
  assert.match(res.json.Message, /Priority.*5000/);
});

test('unknown operations and resources', async () => {
  let res = await shoal.api('GET', '/nothing-here');
  assert.equal(res.status, 404);
  assert.equal(res.json.Code, 'InvalidAction.NotFound');
  res = await shoal.api('GET', '/jobs/job-00000000000000000000000000000000');
  assert.equal(res.status, 404);
  assert.equal(res.json.Code, 'InvalidResource.NotFound');
});
