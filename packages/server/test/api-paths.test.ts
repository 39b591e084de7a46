/**
 * API paths no other test reached: restarting a Failed job, a body over the 16 MiB limit, reading one
 * attempt's log from an offset, paging events both ways, and a master key given by the operator.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startShoal } from '../src/index.js';
import { signedFetch, simpleJob, startTestShoal, type TestShoal } from './helpers.js';

let shoal: TestShoal;
before(async () => {
  shoal = await startTestShoal();
});
after(() => shoal.cleanup());

test('a Failed job can be started again: its failed instance runs once more, with a fresh retry budget', async () => {
  const { json } = await shoal.api('POST', '/jobs', simpleJob('/bin/sh -c "echo attempt; exit 3"'));
  const failed = await shoal.waitForJob(json.Id);
  assert.equal(failed.State, 'Failed');
  const started = await shoal.api('POST', `/jobs/${json.Id}/start`);
  assert.ok(started.status < 300, started.text);
  const again = await shoal.waitForJob(json.Id);
  assert.equal(again.State, 'Failed');
  const instance = (await shoal.api('GET', `/jobs/${json.Id}/tasks/task/instances/0`)).json;
  assert.equal(instance.AttemptCount, 2, 'it ran a second time');
  assert.equal(instance.Result.ExitCode, 3);
  assert.equal(instance.Result.ErrorCode, 'NonZeroExitCode');
});

test('a JSON body over 16 MiB is refused with 413 and the API error shape', async () => {
  const body = JSON.stringify({ ...simpleJob('/bin/true'), Description: 'x'.repeat(16 * 1024 * 1024) });
  const res = await shoal.api('POST', '/jobs', body);
  assert.equal(res.status, 413);
  assert.equal(res.json.Code, 'RequestEntityTooLarge');
  assert.match(res.json.Message, /exceeds 16777216 bytes/);
  assert.ok(res.json.RequestId);
});

test('a log is read per attempt and from an offset', async () => {
  const { json } = await shoal.api(
    'POST',
    '/jobs',
    simpleJob('/bin/sh -c "echo run-$BATCH_COMPUTE_INSTANCE_ID-0123456789; exit 1"', { MaxRetryCount: 1 }),
  );
  await shoal.waitForJob(json.Id);
  const base = `/jobs/${json.Id}/tasks/task/instances/0/log?stream=stdout`;
  const latest = await shoal.api('GET', base);
  assert.equal(latest.headers.get('x-shoal-attempt'), '2');
  const first = await shoal.api('GET', `${base}&attempt=1`);
  assert.equal(first.headers.get('x-shoal-attempt'), '1');
  assert.equal(first.text, latest.text, 'both attempts printed the same line');
  assert.match(first.text, /^run-.*-0123456789\n$/);
  const tail = await shoal.api('GET', `${base}&attempt=1&offset=${first.text.length - 5}`);
  assert.equal(tail.text, '6789\n');
  const beyond = await shoal.api('GET', `${base}&offset=100000`);
  assert.equal(beyond.status, 200);
  assert.equal(beyond.text, '');
  assert.equal((await shoal.api('GET', `${base}&offset=-1`)).status, 400);
  assert.equal((await shoal.api('GET', `${base}&attempt=first`)).status, 400);
});

test('events page forward with After and NextMarker, and back with Order=desc and Before', async () => {
  const { json } = await shoal.api('POST', '/jobs', simpleJob('/bin/true', { InstanceCount: 3 }));
  await shoal.waitForJob(json.Id);
  const forward: number[] = [];
  for (let after = '0'; ;) {
    const page = await shoal.api('GET', `/events?After=${after}&MaxItemCount=4`);
    assert.equal(page.status, 200);
    forward.push(...page.json.Items.map((e: { Seq: number }) => e.Seq));
    if (!page.json.NextMarker) break;
    assert.equal(page.json.Items.length, 4);
    after = page.json.NextMarker;
  }
  assert.ok(forward.length >= 8, `only ${forward.length} events`);
  assert.deepEqual(
    forward,
    [...forward].sort((a, b) => a - b),
  );
  assert.equal(new Set(forward).size, forward.length, 'no event twice');
  const backward: number[] = [];
  for (let before = ''; ;) {
    const page = await shoal.api(
      'GET',
      `/events?Order=desc&MaxItemCount=4${before ? `&Before=${before}` : ''}`,
    );
    backward.push(...page.json.Items.map((e: { Seq: number }) => e.Seq));
    if (!page.json.NextMarker) break;
    before = page.json.NextMarker;
  }
  assert.deepEqual(backward, [...forward].reverse());
  assert.equal((await shoal.api('GET', '/events?Order=sideways')).status, 400);
});

test('a master key given by the operator seals the secrets: no master.key file, and only that key opens them', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-master-key-'));
  const key = randomBytes(32).toString('hex');
  const options = { dataDir, port: 0, slots: 0, logLevel: 'error', masterKey: key };
  try {
    const first = await startShoal(options);
    const creds = first.credentials;
    const whoami = await signedFetch(first.url, creds.AccessKeyId, creds.AccessKeySecret, 'GET', '/whoami');
    assert.equal(whoami.status, 200);
    await first.close();
    assert.equal(existsSync(join(dataDir, 'master.key')), false, 'the key is not written to the data dir');
    const again = await startShoal(options);
    await again.close();
    await assert.rejects(
      startShoal({ ...options, masterKey: randomBytes(32).toString('hex') }),
      /master key/,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
