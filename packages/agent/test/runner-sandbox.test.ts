import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Runner } from '../src/index.js';
import { assignment, fixture, liveGroupMembers, text, type Fixture } from './support.js';

let fx: Fixture;
let runner: Runner;
let unavailable = '';

before(async () => {
  fx = await fixture();
  runner = fx.runner();
  const probe = await runner.sandboxAvailable();
  if (!probe.ok) unavailable = `bubblewrap sandbox unavailable on this machine: ${probe.reason}`;
});
after(async () => {
  await fx.cleanup();
});

/** bwrap tests are skipped only when the probe says bwrap truly cannot work here. */
function needsSandbox(t: TestContext): boolean {
  if (unavailable) t.skip(unavailable);
  return unavailable === '';
}

test('an input prefix mapped at /home/input/ is visible read-only inside the sandbox', async (t) => {
  if (!needsSandbox(t)) return;
  await fx.put('oss://data/in1/a.txt', 'from-in1\n');
  const io = fx.io('ro');
  const a = assignment({
    commandLine: `/bin/sh -c 'cat /home/input/a.txt; id -u; if echo x > /home/input/new.txt; then echo WRITABLE; else echo read-only; fi'`,
    inputMappings: [{ source: 'oss://data/in1/', destination: '/home/input/' }],
  });
  const r = await runner.runAttempt(a, io);
  assert.equal(r.errorCode, '', `${r.errorMessage}\n${await text(io.stderrFile)}`);
  assert.equal(await text(io.stdoutFile), 'from-in1\n65534\nread-only\n');
  assert.match(await text(io.stderrFile), /Read-only file system/);
});

test('a single object mapped to a file path is visible at that path', async (t) => {
  if (!needsSandbox(t)) return;
  await fx.put('oss://data/ref.fa', '>seq\nACGT\n');
  const io = fx.io('file');
  const a = assignment({
    commandLine: `/bin/sh -c 'cat /home/ref/genome.fa /opt2/ref.fa'`,
    inputMappings: [
      { source: 'oss://data/ref.fa', destination: '/home/ref/genome.fa' },
      { source: 'oss://data/ref.fa', destination: '/opt2/' },
    ],
  });
  const r = await runner.runAttempt(a, io);
  assert.equal(r.errorCode, '', `${r.errorMessage}\n${await text(io.stderrFile)}`);
  assert.equal(await text(io.stdoutFile), '>seq\nACGT\n>seq\nACGT\n');
});

test('inputs the sandbox user cannot read in place are copied in instead of bound', async (t) => {
  if (!needsSandbox(t)) return;
  await fx.put('oss://private/in/secret.txt', 'copied\n');
  const bucketDir = path.join(fx.dir, 'blobs', 'private');
  await chmod(bucketDir, 0o700);
  const io = fx.io('copied');
  const a = assignment({
    commandLine: `/bin/sh -c 'cat /home/input/secret.txt'`,
    inputMappings: [{ source: 'oss://private/in/', destination: '/home/input/' }],
  });
  const r = await runner.runAttempt(a, io);
  assert.equal(r.errorCode, '', `${r.errorMessage}\n${await text(io.stderrFile)}`);
  assert.equal(await text(io.stdoutFile), 'copied\n');
});

test('an output directory at /home/output/ is uploaded to its prefix after success', async (t) => {
  if (!needsSandbox(t)) return;
  const io = fx.io('out');
  const a = assignment({
    commandLine: `/bin/sh -c 'mkdir -p /home/output/sub && echo result > /home/output/sub/r.txt && echo top > /home/output/top.txt'`,
    outputMappings: [{ source: '/home/output/', destination: 'oss://results/sandboxed/' }],
  });
  const r = await runner.runAttempt(a, io);
  assert.equal(r.errorCode, '', `${r.errorMessage}\n${await text(io.stderrFile)}`);
  assert.equal(await fx.read('oss://results/sandboxed/sub/r.txt'), 'result\n');
  assert.equal(await fx.read('oss://results/sandboxed/top.txt'), 'top\n');
});

test('two attempts side by side each see their own /home/input/', async (t) => {
  if (!needsSandbox(t)) return;
  await fx.put('oss://data/left/who.txt', 'left\n');
  await fx.put('oss://data/right/who.txt', 'right\n');
  const run = (side: string) => {
    const io = fx.io(`side-${side}`);
    const a = assignment({
      commandLine: `/bin/sh -c 'sleep 0.3; cat /home/input/who.txt; ls /home/input'`,
      inputMappings: [{ source: `oss://data/${side}/`, destination: '/home/input/' }],
    });
    return runner.runAttempt(a, io).then(async (r) => ({ r, out: await text(io.stdoutFile) }));
  };
  const [left, right] = await Promise.all([run('left'), run('right')]);
  assert.equal(left.r.errorCode, '');
  assert.equal(right.r.errorCode, '');
  assert.equal(left.out, 'left\nwho.txt\n');
  assert.equal(right.out, 'right\nwho.txt\n');
});

test('a log file outside the working directory is uploaded under its LogMapping name', async (t) => {
  if (!needsSandbox(t)) return;
  const a = assignment({
    commandLine: `/bin/sh -c 'echo log-line > /var/log/app/run.log; exit 4'`,
    logMappings: [{ source: '/var/log/app/run.log', destination: 'oss://logs/sandbox/' }],
    instanceId: 3,
  });
  const r = await runner.runAttempt(a, fx.io('log'));
  assert.equal(r.errorCode, 'NonZeroExitCode');
  assert.equal(await fx.read(`oss://logs/sandbox/run.log.${a.jobId}.task.3`), 'log-line\n');
});

test('the sandbox hides the host: private /tmp, no other files of the agent, relative paths in the working directory', async (t) => {
  if (!needsSandbox(t)) return;
  const io = fx.io('hidden');
  const a = assignment({
    commandLine: `/bin/sh -c 'test -e ${fx.dir}/blobs && echo blobs-visible; test -e /root && echo root-visible; echo hi > rel.txt; cat rel.txt'`,
    inputMappings: [{ source: 'oss://data/in1/', destination: '/home/input/' }],
  });
  const r = await runner.runAttempt(a, io);
  assert.equal(r.errorCode, '');
  assert.equal(await text(io.stdoutFile), 'hi\n');
});

test("sandbox 'bwrap' runs every attempt sandboxed, and a timeout kills the sandboxed tree", async (t) => {
  if (!needsSandbox(t)) return;
  let pid = 0;
  const started = Date.now();
  const r = await fx
    .runner({ sandbox: 'bwrap' })
    .runAttempt(assignment({ commandLine: `/bin/sh -c 'sleep 30 & sleep 30'`, timeoutMs: 500 }), {
      ...fx.io('sbx-timeout'),
      onSpawn: (p) => (pid = p),
    });
  assert.equal(r.errorCode, 'Timeout');
  assert.ok(Date.now() - started < 3000);
  for (let i = 0; i < 50 && (await liveGroupMembers(pid)).length > 0; i++)
    await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(await liveGroupMembers(pid), []);
});

test('exit codes and missing programs are reported through the sandbox', async (t) => {
  if (!needsSandbox(t)) return;
  const sandboxed = fx.runner({ sandbox: 'bwrap' });
  const r = await sandboxed.runAttempt(assignment({ commandLine: `/bin/sh -c 'exit 5'` }), fx.io('sbx-exit'));
  assert.equal(r.errorCode, 'NonZeroExitCode');
  assert.equal(r.exitCode, 5);
  const r2 = await sandboxed.runAttempt(
    assignment({ commandLine: 'no-such-program-xyz' }),
    fx.io('sbx-missing'),
  );
  assert.equal(r2.errorCode, 'CommandNotFound');
  assert.match(r2.errorMessage, /no-such-program-xyz/);
});

test('the work root is made reachable by the sandbox user; a blocked ancestor is named in the reason', async (t) => {
  if (!needsSandbox(t)) return;
  const st = await stat(fx.workRoot);
  assert.equal(st.mode & 0o001, 0o001);
  const closed = path.join(fx.dir, 'closed');
  await mkdir(closed, { mode: 0o700 });
  const probe = await fx.runner({ workRoot: path.join(closed, 'work') }).sandboxAvailable();
  assert.equal(probe.ok, false);
  assert.match(probe.reason, new RegExp(`${closed} is not searchable`));
});

test('an unusable bwrap makes absolute mappings SandboxUnavailable, with the reason and the fix', async () => {
  const broken = fx.runner({ bwrapPath: '/nonexistent/bwrap' });
  const probe = await broken.sandboxAvailable();
  assert.equal(probe.ok, false);
  const r = await broken.runAttempt(
    assignment({ outputMappings: [{ source: '/home/output/', destination: 'oss://results/x/' }] }),
    fx.io('broken'),
  );
  assert.equal(r.errorCode, 'SandboxUnavailable');
  assert.match(r.errorMessage, /not installed/);
  assert.match(r.errorMessage, /apt-get install bubblewrap/);
});
