import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Runner } from '../src/index.js';
import { detectLayout, layoutDirs } from '../src/sandbox/cgroups.js';
import { sandboxSkip } from '../src/testing.js';
import { assignment, fixture, text, type Fixture } from './support.js';

let fx: Fixture;
let runner: Runner;
let unavailable = '';
let limits = false;

before(async () => {
  fx = await fixture();
  runner = fx.runner();
  const status = await runner.prepare();
  if (!status.ok)
    unavailable = sandboxSkip(`bubblewrap sandbox unavailable on this machine: ${status.reason}`);
  limits = status.limits;
});
after(async () => {
  await runner.close();
  await fx.cleanup();
});

/** Sandbox tests are skipped only when the probe says the sandbox truly cannot work here. */
function needsSandbox(t: TestContext): boolean {
  if (unavailable) t.skip(unavailable);
  return unavailable === '';
}

test('an input prefix mapped at /home/input/ is visible read-only, to a non-root user', async (t) => {
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

test('inputs in a bucket directory nobody else may read still reach the command', async (t) => {
  if (!needsSandbox(t)) return;
  await fx.put('oss://private/in/secret.txt', 'linked\n');
  await chmod(path.join(fx.dir, 'blobs', 'private'), 0o700);
  const io = fx.io('private');
  const a = assignment({
    commandLine: `/bin/sh -c 'cat /home/input/secret.txt'`,
    inputMappings: [{ source: 'oss://private/in/', destination: '/home/input/' }],
  });
  const r = await runner.runAttempt(a, io);
  assert.equal(r.errorCode, '', `${r.errorMessage}\n${await text(io.stderrFile)}`);
  assert.equal(await text(io.stdoutFile), 'linked\n');
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

test('a log file in /tmp is uploaded too (its directory is bound over the private /tmp)', async (t) => {
  if (!needsSandbox(t)) return;
  const a = assignment({
    commandLine: `/bin/sh -c 'echo in-tmp > /tmp/app.log'`,
    logMappings: [{ source: '/tmp/app.log', destination: 'oss://logs/tmp/' }],
  });
  const r = await runner.runAttempt(a, fx.io('tmplog'));
  assert.equal(r.errorCode, '', r.errorMessage);
  assert.equal(await fx.read(`oss://logs/tmp/app.log.${a.jobId}.task.0`), 'in-tmp\n');
});

test('the sandbox hides the host: no data directory, no /root, a read-only system, a private /tmp', async (t) => {
  if (!needsSandbox(t)) return;
  const io = fx.io('hidden');
  // The host's /tmp holds a file the sandbox must not see, and must not get the file the sandbox writes.
  const hostMarker = `/tmp/shoal-host-marker-${process.pid}`;
  const sandboxFile = `/tmp/shoal-from-sandbox-${process.pid}`;
  await writeFile(hostMarker, 'host');
  const probe = [
    `test -e ${fx.dir} && echo data-visible`,
    'test -e /root && echo root-visible',
    'touch /usr/x 2>/dev/null && echo usr-writable',
    'touch /x 2>/dev/null && echo root-writable',
    `test -e ${hostMarker} && echo host-tmp-visible`,
    'ls /tmp | wc -l',
    `echo mine > ${sandboxFile} && cat ${sandboxFile}`,
    'echo hi > rel.txt; cat rel.txt',
  ].join('; ');
  try {
    const r = await runner.runAttempt(assignment({ commandLine: `/bin/sh -c '${probe}'` }), io);
    assert.equal(r.errorCode, '', r.errorMessage);
    assert.equal(await text(io.stdoutFile), '0\nmine\nhi\n');
    assert.equal(existsSync(sandboxFile), false, "the sandbox's /tmp is its own");
  } finally {
    await rm(hostMarker, { force: true });
    await rm(sandboxFile, { force: true });
  }
});

test('a warm sandbox is reused, yet each attempt starts with a fresh working directory and /tmp', async (t) => {
  if (!needsSandbox(t)) return;
  const r1 = await runner.runAttempt(
    assignment({
      commandLine: `/bin/sh -c 'echo left > mine; echo left > /tmp/mine; sleep 30 & echo'`,
      ownerId: 7,
    }),
    fx.io('warm-1'),
  );
  assert.equal(r1.errorCode, '');
  const before = await runner.sandboxCounts();
  const io = fx.io('warm-2');
  const r2 = await runner.runAttempt(
    // ps writes to a file rather than a pipe: a pipeline's other side may not have exec'd `sort` yet when
    // ps reads /proc, and would show as a second `sh`.
    assignment({
      commandLine: `/bin/sh -c 'ls -A; ls -A /tmp; ps -e -o comm= > ps.txt; sort ps.txt'`,
      ownerId: 7,
    }),
    io,
  );
  assert.equal(r2.errorCode, '', r2.errorMessage);
  assert.equal((await runner.sandboxCounts()).opened, before.opened, 'the same sandbox ran both');
  // Nothing of the first attempt: no files, and of processes only this attempt's own.
  assert.deepEqual((await text(io.stdoutFile)).trim().split('\n'), ['ps', 'sh', 'shoal-init']);
});

test('the command holds no capability, may gain none, and runs with no_new_privs', async (t) => {
  if (!needsSandbox(t)) return;
  const io = fx.io('caps');
  // Twice in one warm sandbox: the second attempt's leader was parked, and dropped them while parked.
  for (const round of [1, 2]) {
    const r = await runner.runAttempt(
      assignment({
        commandLine: `/bin/sh -c 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status'`,
        ownerId: 31,
      }),
      io,
    );
    assert.equal(r.errorCode, '', r.errorMessage);
    const fields = Object.fromEntries(
      (await text(io.stdoutFile))
        .trim()
        .split('\n')
        .map((line) => line.split(/:\s+/)),
    );
    assert.deepEqual(
      fields,
      {
        CapInh: '0000000000000000',
        CapPrm: '0000000000000000',
        CapEff: '0000000000000000',
        CapBnd: '0000000000000000',
        CapAmb: '0000000000000000',
        NoNewPrivs: '1',
      },
      `round ${round}`,
    );
  }
});

test('attempts of different owners never share a sandbox', async (t) => {
  if (!needsSandbox(t)) return;
  await runner.runAttempt(assignment({ ownerId: 11 }), fx.io('owner-11'));
  const before = (await runner.sandboxCounts()).opened;
  await runner.runAttempt(assignment({ ownerId: 12 }), fx.io('owner-12'));
  assert.equal((await runner.sandboxCounts()).opened, before + 1);
});

test('a task without network access sees only a loopback interface', async (t) => {
  if (!needsSandbox(t)) return;
  const io = fx.io('nonet');
  const r = await runner.runAttempt(
    assignment({
      commandLine: `/bin/sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'`,
      networkAccess: false,
    }),
    io,
  );
  assert.equal(r.errorCode, '', r.errorMessage);
  assert.equal(await text(io.stdoutFile), 'lo\n');
});

test('exit codes and missing programs are reported through the sandbox', async (t) => {
  if (!needsSandbox(t)) return;
  const r = await runner.runAttempt(assignment({ commandLine: `/bin/sh -c 'exit 5'` }), fx.io('sbx-exit'));
  assert.equal(r.errorCode, 'NonZeroExitCode');
  assert.equal(r.exitCode, 5);
  const r2 = await runner.runAttempt(
    assignment({ commandLine: 'no-such-program-xyz' }),
    fx.io('sbx-missing'),
  );
  assert.equal(r2.errorCode, 'CommandNotFound');
  assert.match(r2.errorMessage, /no-such-program-xyz/);
});

test('usage of a sandboxed attempt is measured: CPU time and peak memory', async (t) => {
  if (!needsSandbox(t)) return;
  if (!limits) return t.skip(sandboxSkip('no cgroups here: usage is not measured'));
  const r = await runner.runAttempt(
    assignment({ commandLine: `/bin/sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done'` }),
    fx.io('usage'),
  );
  assert.equal(r.errorCode, '');
  assert.ok((r.usage?.cpuMs ?? 0) > 10, `cpu ${r.usage?.cpuMs}`);
  assert.ok((r.usage?.peakMemoryBytes ?? 0) > 100_000, `peak ${r.usage?.peakMemoryBytes}`);
});

/** The cgroups a runner's attempts run in now (children of its first hierarchy's parent). */
async function attemptCgroups(workRoot: string): Promise<string[]> {
  const { layout } = detectLayout(createHash('sha1').update(workRoot).digest('hex').slice(0, 12));
  if (!layout) return [];
  const parent = layoutDirs(layout)[0]!;
  const entries = await readdir(parent, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/** Whether an ended attempt's cgroup can serve the next: v1, or v2 whose memory.peak can be reset (6.12). */
function cgroupsReusable(): boolean {
  const { layout } = detectLayout('probe');
  const [major = 0, minor = 0] = os.release().split('.').map(Number);
  return layout?.version === 1 || major > 6 || (major === 6 && minor >= 12);
}

test('each attempt in a warm sandbox is measured and limited on its own, in a reused cgroup', async (t) => {
  if (!needsSandbox(t)) return;
  if (!limits) return t.skip(sandboxSkip('no cgroups here: usage is not measured'));
  const workRoot = path.join(fx.dir, 'reuse-work');
  const own = fx.runner({ workRoot });
  const limited = (memoryBytes: number, processes: number) => ({
    instanceType: 'test.small',
    cpuMillis: 1000,
    memoryBytes,
    processes,
  });
  const run = (commandLine: string, memoryBytes = 512 * 1024 * 1024, processes = 256) =>
    own.runAttempt(
      assignment({ commandLine, ownerId: 21, limits: limited(memoryBytes, processes) }),
      fx.io('reuse'),
    );
  const allocate40 = `/bin/sh -c 'x=$(head -c 40000000 /dev/zero | tr "\\0" a); i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done'`;
  // A busy, 40 MB attempt, then a tiny one in the same sandbox and, where it can serve again, cgroup.
  const heavy = await run(allocate40);
  assert.equal(heavy.errorCode, '', heavy.errorMessage);
  const cgroupsAfterHeavy = await attemptCgroups(workRoot);
  const { opened } = await own.sandboxCounts();
  const light = await run('/bin/true');
  assert.equal(light.errorCode, '', light.errorMessage);
  assert.equal((await own.sandboxCounts()).opened, opened, 'one sandbox ran every attempt');
  if (cgroupsReusable())
    assert.deepEqual(await attemptCgroups(workRoot), cgroupsAfterHeavy, 'the same cgroup served both');
  const [h, l] = [heavy.usage, light.usage];
  assert.ok((h?.peakMemoryBytes ?? 0) > 40_000_000, `heavy peak ${h?.peakMemoryBytes}`);
  assert.ok((l?.peakMemoryBytes ?? Infinity) < 10_000_000, `light peak ${l?.peakMemoryBytes}`);
  assert.ok((l?.cpuMs ?? Infinity) < (h?.cpuMs ?? 0) / 4, `light cpu ${l?.cpuMs} ms, heavy ${h?.cpuMs} ms`);

  // Limits follow each attempt: lowered, the same allocation fails; raised again, it succeeds.
  const low = await run(allocate40, 16 * 1024 * 1024);
  assert.equal(low.errorCode, 'OutOfMemory', low.errorMessage);
  const high = await run(allocate40);
  assert.equal(high.errorCode, '', high.errorMessage);

  // An attempt stopped at its process limit leaves nothing counted against the next one.
  const many = await run(`/bin/sh -c 'for i in $(seq 30); do sleep 5 & done; wait'`, undefined, 8);
  assert.equal(many.errorCode, 'ProcessLimitExceeded', many.errorMessage);
  const few = await run(`/bin/sh -c 'for i in 1 2 3 4 5 6; do sleep 0.2 & done; wait'`, undefined, 8);
  assert.equal(few.errorCode, '', few.errorMessage);
  assert.equal((await own.sandboxCounts()).opened, opened, 'one sandbox ran every attempt');
});

test('a work root under a 0700 directory works, and nothing on the way is opened up', async (t) => {
  if (!needsSandbox(t)) return;
  const closed = path.join(fx.dir, 'closed');
  await mkdir(closed, { mode: 0o700 });
  const inner = fx.runner({ workRoot: path.join(closed, 'work') });
  try {
    await fx.put('oss://data/closed/x.txt', 'through a closed door\n');
    const io = fx.io('closed');
    const r = await inner.runAttempt(
      assignment({
        commandLine: `/bin/sh -c 'cat /home/input/x.txt > /home/output/y.txt; cat /home/output/y.txt'`,
        inputMappings: [{ source: 'oss://data/closed/', destination: '/home/input/' }],
        outputMappings: [{ source: '/home/output/', destination: 'oss://results/closed/' }],
      }),
      io,
    );
    assert.equal(r.errorCode, '', `${r.errorMessage}\n${await text(io.stderrFile)}`);
    assert.equal(await text(io.stdoutFile), 'through a closed door\n');
    assert.equal(await fx.read('oss://results/closed/y.txt'), 'through a closed door\n');
    assert.equal((await stat(closed)).mode & 0o777, 0o700);
  } finally {
    await inner.close();
  }
});

test('an unusable bwrap makes the sandbox unavailable, with the reason and the fix', async () => {
  const broken = fx.runner({ bwrapPath: '/nonexistent/bwrap' });
  const probe = await broken.sandboxAvailable();
  assert.equal(probe.ok, false);
  assert.match(probe.reason, /not installed/);
  const r = await broken.runAttempt(assignment(), fx.io('broken'));
  assert.equal(r.errorCode, 'SandboxUnavailable');
  assert.match(r.errorMessage, /apt-get install bubblewrap/);
  await broken.close();
});
