import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { assignment, fixture, liveGroupMembers, text, type Fixture } from './support.js';

let fx: Fixture;
before(async () => {
  fx = await fixture();
});
after(async () => {
  await fx.cleanup();
});

test('a timeout kills the whole process tree', async () => {
  let pid = 0;
  const started = Date.now();
  const r = await fx
    .runner()
    .runAttempt(assignment({ commandLine: `/bin/sh -c 'sleep 30 & sleep 30'`, timeoutMs: 500 }), {
      ...fx.io('timeout'),
      onSpawn: (p) => (pid = p),
    });
  const elapsed = Date.now() - started;
  assert.equal(r.errorCode, 'Timeout');
  assert.equal(r.errorMessage, 'timed out after 500 ms; process tree killed');
  assert.ok(elapsed < 3000, `took ${elapsed} ms`);
  assert.ok(r.durationMs >= 500);
  assert.ok(pid > 0);
  await waitGone(pid);
});

test('processes ignoring SIGTERM are killed after the grace period', async () => {
  let pid = 0;
  const started = Date.now();
  const r = await fx
    .runner({ killGraceMs: 200 })
    .runAttempt(assignment({ commandLine: `/bin/sh -c 'trap "" TERM; sleep 30 & wait'`, timeoutMs: 300 }), {
      ...fx.io('stubborn'),
      onSpawn: (p) => (pid = p),
    });
  assert.equal(r.errorCode, 'Timeout');
  assert.ok(Date.now() - started < 3000);
  await waitGone(pid);
});

test('aborting stops the attempt: Stopped, tree killed', async () => {
  const controller = new AbortController();
  let pid = 0;
  const run = fx.runner().runAttempt(assignment({ commandLine: `/bin/sh -c 'sleep 30 & sleep 30'` }), {
    ...fx.io('abort'),
    signal: controller.signal,
    onSpawn: (p) => {
      pid = p;
      setTimeout(() => controller.abort(), 100);
    },
  });
  const r = await run;
  assert.equal(r.errorCode, 'Stopped');
  assert.match(r.errorMessage, /stopped after \d+ ms/);
  await waitGone(pid);
});

test('an attempt aborted before it starts never runs', async () => {
  const controller = new AbortController();
  controller.abort();
  let spawned = false;
  const io = fx.io('preabort');
  const r = await fx.runner().runAttempt(assignment({ commandLine: 'echo never' }), {
    ...io,
    signal: controller.signal,
    onSpawn: () => (spawned = true),
  });
  assert.equal(r.errorCode, 'Stopped');
  assert.equal(spawned, false);
  assert.equal(r.exitCode, null);
  assert.doesNotMatch(await text(io.stdoutFile), /never/);
});

test('background processes left behind by a finished command are killed', async () => {
  let pid = 0;
  const r = await fx.runner().runAttempt(assignment({ commandLine: `/bin/sh -c 'sleep 30 & echo done'` }), {
    ...fx.io('leftover'),
    onSpawn: (p) => (pid = p),
  });
  assert.equal(r.errorCode, '');
  await waitGone(pid);
});

async function waitGone(pgid: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await liveGroupMembers(pgid)).length === 0) return;
    await sleep(20);
  }
  assert.deepEqual(await liveGroupMembers(pgid), [], `process group ${pgid} still has live members`);
}
