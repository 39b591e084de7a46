/**
 * A graceful stop does not wait for followers or long commands, and what it cuts off runs again after the
 * next start without counting as a failure.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createHash } from 'node:crypto';
import { signedFetch, simpleJob, startTestShoal } from './helpers.js';

const dataDir = mkdtempSync(join(tmpdir(), 'shoal-shutdown-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test(
  'close() returns promptly with a log follower open, and the cut-off attempt runs again',
  { timeout: 60_000 },
  async () => {
    let shoal = await startTestShoal({ sandbox: 'off' }, dataDir);
    const marker = join(dataDir, 'second-run');
    const cmd = `/bin/sh -c 'if [ -e ${marker} ]; then echo again; else touch ${marker}; sleep 30; fi'`;
    const id = (await shoal.api('POST', '/jobs', simpleJob(cmd))).json.Id;
    await shoal.waitForJob(id, ['Running']);
    // A follower that never hangs up.
    const streaming = signedFetch(
      shoal.url,
      shoal.credentials.AccessKeyId,
      shoal.credentials.AccessKeySecret,
      'GET',
      `/jobs/${id}/tasks/task/instances/0/log?follow=true`,
    ).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    await shoal.close();
    assert.ok(Date.now() - started < 5000, `close took ${Date.now() - started} ms`);
    await streaming;

    shoal = await startTestShoal({ sandbox: 'off' }, dataDir);
    try {
      const job = await shoal.waitForJob(id);
      assert.equal(job.State, 'Finished');
      const instance = (await shoal.api('GET', `/jobs/${id}/tasks/task/instances/0`)).json;
      assert.equal(instance.RetryCount, 0, 'the stop did not use up a retry');
      assert.equal(instance.AttemptCount, 2);
      assert.equal((await shoal.api('GET', `/jobs/${id}/tasks/task/instances/0/log`)).text, 'again\n');
    } finally {
      await shoal.close();
    }
  },
);

test('an upload whose Content-MD5 does not match leaves the stored object as it was', async () => {
  const shoal = await startTestShoal({ slots: 0 });
  try {
    const put = (body: string, headers: Record<string, string> = {}) =>
      shoal.api('PUT', '/objects/md5/file.txt', body, {
        'Content-Type': 'application/octet-stream',
        ...headers,
      });
    assert.equal((await put('original')).status, 201);
    const res = await put('replacement', { 'Content-MD5': 'AAAAAAAAAAAAAAAAAAAAAA==' });
    assert.equal(res.status, 400);
    assert.equal(res.json.Code, 'InvalidContentMD5');
    assert.equal((await shoal.api('GET', '/objects/md5/file.txt')).text, 'original');
    const good = createHash('md5').update('replacement').digest('base64');
    assert.equal((await put('replacement', { 'Content-MD5': good })).status, 201);
    assert.equal((await shoal.api('GET', '/objects/md5/file.txt')).text, 'replacement');
  } finally {
    await shoal.cleanup();
  }
});
