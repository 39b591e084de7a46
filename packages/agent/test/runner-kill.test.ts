import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunnerOptions } from '../src/index.js';
import { assignment, fixture, text, waitAttemptGone, type Fixture } from './support.js';

let fx: Fixture;
before(async () => {
  fx = await fixture();
});
after(async () => {
  await fx.cleanup();
});

// Sandboxed, an attempt's processes are those of its pid namespace and cgroup; unsandboxed, of its
// process group. Either way a timeout, a stop or the command's end leaves none of them alive.
const modes: Array<[string, Partial<RunnerOptions>, string]> = [
  ['sandboxed', {}, 'every process of the attempt was killed'],
  ['unsandboxed', { sandbox: 'off' }, 'its process group was killed'],
];

for (const [mode, options, killed] of modes) {
  describe(mode, () => {
    test('a timeout kills the whole process tree', async () => {
      const started = Date.now();
      const a = assignment({ commandLine: `/bin/sh -c 'sleep 30 & sleep 30'`, timeoutMs: 500 });
      const r = await fx.runner(options).runAttempt(a, fx.io(`timeout-${mode}`));
      const elapsed = Date.now() - started;
      assert.equal(r.errorCode, 'Timeout');
      assert.equal(r.errorMessage, `timed out after 500 ms; ${killed}`);
      // Well before the 30 s the sleeps would take, with room for a busy machine.
      assert.ok(elapsed < 15_000, `took ${elapsed} ms`);
      assert.ok(r.durationMs >= 500);
      await waitAttemptGone(a.jobId);
    });

    test('processes ignoring SIGTERM are killed after the grace period', async () => {
      const started = Date.now();
      const a = assignment({ commandLine: `/bin/sh -c 'trap "" TERM; sleep 30 & wait'`, timeoutMs: 300 });
      const r = await fx.runner({ ...options, killGraceMs: 200 }).runAttempt(a, fx.io(`stubborn-${mode}`));
      assert.equal(r.errorCode, 'Timeout');
      assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
      await waitAttemptGone(a.jobId);
    });

    test('aborting stops the attempt: Stopped, tree killed', async () => {
      const controller = new AbortController();
      const a = assignment({ commandLine: `/bin/sh -c 'sleep 30 & sleep 30'` });
      const r = await fx.runner(options).runAttempt(a, {
        ...fx.io(`abort-${mode}`),
        signal: controller.signal,
        onSpawn: () => setTimeout(() => controller.abort(), 100),
      });
      assert.equal(r.errorCode, 'Stopped');
      assert.match(r.errorMessage, /stopped after \d+ ms/);
      await waitAttemptGone(a.jobId);
    });

    test('an attempt aborted before it starts never runs', async () => {
      const controller = new AbortController();
      controller.abort();
      let spawned = false;
      const io = fx.io(`preabort-${mode}`);
      const r = await fx.runner(options).runAttempt(assignment({ commandLine: 'echo never' }), {
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
      const a = assignment({ commandLine: `/bin/sh -c 'sleep 30 & echo done'` });
      const r = await fx.runner(options).runAttempt(a, fx.io(`leftover-${mode}`));
      assert.equal(r.errorCode, '');
      await waitAttemptGone(a.jobId);
    });
  });
}

test('sandboxed, a process that left the process group with setsid is killed at the timeout too', async () => {
  const a = assignment({
    commandLine: `/bin/sh -c 'setsid sh -c "trap \\"\\" TERM HUP; sleep 60" & sleep 60'`,
    timeoutMs: 400,
  });
  const r = await fx.runner({ killGraceMs: 200 }).runAttempt(a, fx.io('setsid'));
  assert.equal(r.errorCode, 'Timeout');
  await waitAttemptGone(a.jobId);
});
