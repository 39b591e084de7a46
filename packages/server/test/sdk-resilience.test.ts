/**
 * The SDK's resume, retry and progress paths against the real server (its own tests use a stand-in): a
 * followed log whose connection breaks resumes at the byte reached, a lost response to an idempotent
 * createJob creates one job, a network error on a read is retried, and uploads and downloads report
 * progress up to their real size.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ShoalClient } from '@shoal/sdk';
import { simpleJob, startTestShoal, type TestShoal } from './helpers.js';

let shoal: TestShoal;
before(async () => {
  shoal = await startTestShoal({ slots: 1 });
});
after(() => shoal.cleanup());

/** A client whose fetch can be interfered with, as a flaky network would. */
function client(fetchImpl: typeof fetch = fetch): ShoalClient {
  return new ShoalClient({
    endpoint: shoal.url,
    accessKeyId: shoal.credentials.AccessKeyId,
    accessKeySecret: shoal.credentials.AccessKeySecret,
    retryBaseDelayMs: 10,
    fetch: fetchImpl,
  });
}

test('a followed log whose connection breaks resumes at the byte reached: every line once, in order', async () => {
  const lines = 30;
  const { json } = await shoal.api(
    'POST',
    '/jobs',
    simpleJob(`/bin/sh -c 'i=0; while [ $i -lt ${lines} ]; do echo line-$i; i=$((i+1)); sleep 0.05; done'`),
  );
  await shoal.waitForJob(json.Id, ['Running']);
  let follows = 0;
  let broken = false;
  const flaky: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (!String(input).includes('follow=true')) return response;
    follows++;
    if (follows > 1 || !response.body) return response;
    // The first follow breaks after its first chunk, as a dropped connection would.
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done || broken) {
          controller.error(new TypeError('terminated'));
          return;
        }
        controller.enqueue(value);
        broken = true;
      },
      cancel: () => reader.cancel(),
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  let text = '';
  for await (const chunk of client(flaky).followLog(json.Id, 'task', 0, 'stdout'))
    text += Buffer.from(chunk).toString();
  assert.ok(broken && follows >= 2, `the stream was broken and resumed (${follows} follows)`);
  assert.equal(text, Array.from({ length: lines }, (_, i) => `line-${i}\n`).join(''));
});

test('a lost response to an idempotent createJob is retried and creates one job', async () => {
  let posts = 0;
  const lossy: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (init?.method === 'POST' && new URL(String(input)).pathname === '/jobs' && ++posts === 1) {
      await response.arrayBuffer();
      throw new TypeError('fetch failed'); // the job was created, but its answer never arrived
    }
    return response;
  };
  const name = `idempotent-${Date.now()}`;
  const { Id } = await client(lossy).createJob(simpleJob('/bin/true', {}, { Name: name }), {
    idempotentToken: `token-${name}`,
  });
  assert.equal(posts, 2, 'sent twice');
  const same = [];
  for await (const job of client().jobs()) if (job.Name === name) same.push(job.Id);
  assert.deepEqual(same, [Id], 'one job for both requests');
});

test('a read that meets a network error is retried', async () => {
  let calls = 0;
  const failingOnce: typeof fetch = async (input, init) => {
    if (++calls === 1) throw new TypeError('fetch failed');
    return fetch(input, init);
  };
  const available = await client(failingOnce).getAvailable();
  assert.equal(calls, 2);
  assert.ok(Array.isArray(available.AvailableClusterInstanceType));
});

test('uploads and downloads report progress up to their real size', async () => {
  const size = 3 * 1024 * 1024 + 17;
  const file = join(shoal.dataDir, 'progress.bin');
  writeFileSync(file, Buffer.alloc(size, 7));
  const up: number[] = [];
  await client().uploadFile('oss://progress/big.bin', file, { onProgress: (p) => up.push(p.loadedBytes) });
  assert.ok(up.length >= 2, `only ${up.length} progress reports`);
  assert.deepEqual(
    up,
    [...up].sort((a, b) => a - b),
    'never backwards',
  );
  assert.equal(up[up.length - 1], size);
  const down: number[] = [];
  const bytes = await client().downloadObject('oss://progress/big.bin', {
    onProgress: (p) => down.push(p.loadedBytes),
  });
  assert.equal(bytes.byteLength, size);
  assert.equal(down[down.length - 1], size);
  assert.deepEqual(
    down,
    [...down].sort((a, b) => a - b),
  );
});
