import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { resolveRunnerOptions } from '../src/index.js';
import { assignment, fixture, text, type Fixture } from './support.js';

let fx: Fixture;
before(async () => {
  fx = await fixture();
});
after(async () => {
  await fx.cleanup();
});

test('stdout and stderr land in the given files; success has no error', async () => {
  const io = fx.io('streams');
  const r = await fx
    .runner()
    .runAttempt(assignment({ commandLine: `/bin/sh -c 'echo out; echo err >&2'` }), io);
  assert.equal(r.errorCode, '');
  assert.equal(r.exitCode, 0);
  assert.equal(r.signal, null);
  assert.ok(r.endedAtUs >= r.startedAtUs);
  assert.equal(await text(io.stdoutFile), 'out\n');
  assert.equal(await text(io.stderrFile), 'err\n');
});

test('stdout and stderr may share one file', async () => {
  const file = fx.io('shared').stdoutFile;
  const r = await fx
    .runner()
    .runAttempt(assignment({ commandLine: `/bin/sh -c 'echo one; echo two >&2; echo three'` }), {
      stdoutFile: file,
      stderrFile: file,
    });
  assert.equal(r.errorCode, '');
  assert.equal(await text(file), 'one\ntwo\nthree\n');
});

test('a nonzero exit code is data, with the last lines of stderr in detail', async () => {
  const r = await fx
    .runner()
    .runAttempt(assignment({ commandLine: `/bin/sh -c 'echo boom >&2; exit 3'` }), fx.io('exit3'));
  assert.equal(r.errorCode, 'NonZeroExitCode');
  assert.equal(r.exitCode, 3);
  assert.equal(r.errorMessage, 'command exited with code 3');
  assert.match(r.detail, /boom/);
});

test('a command killed by a signal reports the signal', async () => {
  const r = await fx
    .runner()
    .runAttempt(assignment({ commandLine: `/bin/sh -c 'kill -SEGV $$'` }), fx.io('segv'));
  assert.equal(r.errorCode, 'KilledBySignal');
  assert.equal(r.signal, 'SIGSEGV');
  assert.equal(r.exitCode, null);
});

test('the environment is the base, EnvVars and BATCH_COMPUTE_*, never the agent own', async () => {
  process.env.SECRET_TEST = 'do-not-leak';
  try {
    const io = fx.io('env');
    const a = assignment({
      commandLine: '/usr/bin/env',
      envVars: { GREETING: 'hello world', BATCH_COMPUTE_DAG_JOB_ID: 'spoofed' },
      instanceId: 2,
      instanceCount: 5,
      attemptNo: 3,
    });
    const r = await fx.runner().runAttempt(a, io);
    assert.equal(r.errorCode, '');
    const env = Object.fromEntries(
      (await text(io.stdoutFile))
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(env.SECRET_TEST, undefined);
    assert.equal(env.PATH, '/usr/local/bin:/usr/bin:/bin');
    assert.equal(env.LANG, 'C.UTF-8');
    assert.equal(env.HOME, '/batchcompute/workdir');
    assert.equal(env.GREETING, 'hello world');
    assert.equal(env.BATCH_COMPUTE_DAG_JOB_ID, a.jobId);
    assert.equal(env.BATCH_COMPUTE_DAG_TASK_ID, 'task');
    assert.equal(env.BATCH_COMPUTE_DAG_INSTANCE_ID, '2');
    assert.equal(env.BATCH_COMPUTE_DAG_INSTANCE_COUNT, '5');
    assert.equal(env.BATCH_COMPUTE_ATTEMPT, '3');
    assert.equal(env.BATCH_COMPUTE_OSS_HOST, 'oss.local');
    assert.equal(env.BATCH_COMPUTE_REGION, 'local-1');
    assert.equal(env.BATCH_COMPUTE_CLUSTER_ID, 'cls-test');
    assert.equal(env.BATCH_COMPUTE_WORKER_ID, 'w-test');
  } finally {
    delete process.env.SECRET_TEST;
  }
});

test('a variable is visible to a shell the user asked for', async () => {
  const io = fx.io('iid');
  await fx
    .runner()
    .runAttempt(
      assignment({ commandLine: `/bin/sh -c 'echo $BATCH_COMPUTE_DAG_INSTANCE_ID'`, instanceId: 7 }),
      io,
    );
  assert.equal(await text(io.stdoutFile), '7\n');
});

test('no shell: operators, variables and globs are plain arguments', async () => {
  const io = fx.io('noshell');
  const r = await fx.runner().runAttempt(assignment({ commandLine: 'echo a | b > c $HOME *' }), io);
  assert.equal(r.errorCode, '');
  assert.equal(await text(io.stdoutFile), 'a | b > c $HOME *\n');
});

test('the program is found through PATH from EnvVars, and runs in the working directory', async () => {
  const io = fx.io('pwd');
  const r = await fx.runner().runAttempt(assignment({ commandLine: 'pwd', envVars: { PATH: '/bin' } }), io);
  assert.equal(r.errorCode, '');
  assert.equal(await text(io.stdoutFile), '/batchcompute/workdir\n');
  const off = fx.io('pwd-off');
  const r2 = await fx.runner({ sandbox: 'off' }).runAttempt(assignment({ commandLine: 'pwd' }), off);
  assert.equal(r2.errorCode, '');
  assert.ok((await text(off.stdoutFile)).startsWith(fx.workRoot), 'unsandboxed: the host directory');
});

test('a missing program is CommandNotFound, and the reason is written to stderr', async () => {
  const io = fx.io('missing');
  const r = await fx.runner().runAttempt(assignment({ commandLine: 'no-such-program-xyz arg' }), io);
  assert.equal(r.errorCode, 'CommandNotFound');
  assert.match(r.errorMessage, /no-such-program-xyz.*not found in PATH/);
  assert.equal(r.exitCode, null);
  const r2 = await fx
    .runner()
    .runAttempt(assignment({ commandLine: './nothing-here.sh' }), fx.io('missing2'));
  assert.equal(r2.errorCode, 'CommandNotFound');
  assert.match(await text(io.stderrFile), /^shoal: command/);
});

test('an unterminated quote is CommandLineInvalid naming the position', async () => {
  const r = await fx.runner().runAttempt(assignment({ commandLine: `echo 'oops` }), fx.io('quote'));
  assert.equal(r.errorCode, 'CommandLineInvalid');
  assert.match(r.errorMessage, /unterminated single quote.*position 6/);
  const r2 = await fx.runner().runAttempt(assignment({ commandLine: '   ' }), fx.io('empty'));
  assert.equal(r2.errorCode, 'CommandLineInvalid');
});

test('stdout and stderr are uploaded to their redirect paths, also on failure', async () => {
  const a = assignment({
    commandLine: `/bin/sh -c 'echo to-out; echo to-err >&2; exit 1'`,
    stdoutRedirectPath: 'oss://logs/run/stdout.job.task.0',
    stderrRedirectPath: 'oss://logs/run/stderr.job.task.0',
  });
  const r = await fx.runner().runAttempt(a, fx.io('upload'));
  assert.equal(r.errorCode, 'NonZeroExitCode');
  assert.equal(await fx.read('oss://logs/run/stdout.job.task.0'), 'to-out\n');
  assert.equal(await fx.read('oss://logs/run/stderr.job.task.0'), 'to-err\n');
});

test('relative mappings live in the working directory and need no sandbox', async () => {
  await fx.put('oss://data/in/a.txt', 'alpha\n');
  await fx.put('oss://data/in/sub/b.txt', 'beta\n');
  await fx.put('oss://data/one.txt', 'single\n');
  const a = assignment({
    commandLine: `/bin/sh -c 'cat input/a.txt input/sub/b.txt one/one.txt > out/result.txt; echo logged > app.log'`,
    inputMappings: [
      { source: 'oss://data/in/', destination: 'input/' },
      { source: 'oss://data/one.txt', destination: 'one/' },
    ],
    outputMappings: [{ source: 'out/', destination: 'oss://results/r1/' }],
    logMappings: [{ source: 'app.log', destination: 'oss://logs/applog/' }],
  });
  const r = await fx.runner({ sandbox: 'off' }).runAttempt(a, fx.io('relative'));
  assert.equal(r.errorCode, '', r.errorMessage);
  assert.equal(await fx.read('oss://results/r1/result.txt'), 'alpha\nbeta\nsingle\n');
  assert.equal(await fx.read(`oss://logs/applog/app.log.${a.jobId}.task.0`), 'logged\n');
});

test('outputs of a failed attempt are not uploaded, its logs are', async () => {
  const a = assignment({
    commandLine: `/bin/sh -c 'mkdir -p out; echo partial > out/x; echo why > app.log; exit 2'`,
    outputMappings: [{ source: 'out/', destination: 'oss://results/failed/' }],
    logMappings: [{ source: 'app.log', destination: 'oss://logs/failed/' }],
  });
  const r = await fx.runner().runAttempt(a, fx.io('failed-out'));
  assert.equal(r.errorCode, 'NonZeroExitCode');
  const listed = await fx.blobs.listObjects({ scheme: 'oss', bucket: 'results', key: 'failed/' });
  assert.equal(listed.objects.length, 0);
  assert.equal(await fx.read(`oss://logs/failed/app.log.${a.jobId}.task.0`), 'why\n');
});

test("an absolute mapping with sandbox 'off' is SandboxUnavailable, saying what to do", async () => {
  const a = assignment({ inputMappings: [{ source: 'oss://data/in/', destination: '/home/input/' }] });
  const r = await fx.runner({ sandbox: 'off' }).runAttempt(a, fx.io('off'));
  assert.equal(r.errorCode, 'SandboxUnavailable');
  assert.match(r.errorMessage, /\/home\/input/);
  assert.match(r.errorMessage, /map paths relative to the working directory, or run with the sandbox/);
});

test('a mapping climbing out of the working directory is refused', async () => {
  const a = assignment({ inputMappings: [{ source: 'oss://data/in/', destination: '../escape/' }] });
  const r = await fx.runner().runAttempt(a, fx.io('climb'));
  assert.equal(r.errorCode, 'InputMappingFailed');
  assert.match(r.errorMessage, /climbs out/);
});

test('a missing input object is InputMappingFailed', async () => {
  const a = assignment({ inputMappings: [{ source: 'oss://data/nope.txt', destination: 'nope.txt' }] });
  const r = await fx.runner().runAttempt(a, fx.io('noinput'));
  assert.equal(r.errorCode, 'InputMappingFailed');
  assert.match(r.errorMessage, /oss:\/\/data\/nope.txt not found/);
});

test('unsandboxed, a working directory is always fresh: an empty one is reused, anything else removed', async () => {
  const root = `${fx.dir}/fresh-root`;
  const runner = fx.runner({ workRoot: root, sandbox: 'off' });
  const pwdOf = async (commandLine: string, name: string) => {
    const io = fx.io(name);
    const result = await runner.runAttempt(assignment({ commandLine }), io);
    assert.equal(result.errorCode, '', result.errorMessage);
    return (await readFile(io.stdoutFile, 'utf8')).split('\n');
  };
  const [first] = await pwdOf('/bin/pwd', 'fresh-1');
  assert.deepEqual(await readdir(root), [first!.slice(root.length + 1)], 'one empty spare is kept');
  const [second, ...listing] = await pwdOf(`/bin/sh -c 'pwd; ls -A; echo x > marker'`, 'fresh-2');
  assert.equal(second, first, 'the empty directory was reused');
  assert.deepEqual(listing.filter(Boolean), [], 'and it was empty');
  assert.deepEqual(await readdir(root), [], 'a directory with leftovers is removed');
  const [third] = await pwdOf(`/bin/sh -c 'pwd; chmod 700 .'`, 'fresh-3');
  assert.notEqual(third, first);
  assert.deepEqual(await readdir(root), [], 'a directory whose mode changed is removed');
  await pwdOf('/bin/true', 'fresh-4');
  assert.equal((await readdir(root)).length, 1);
  await runner.close();
  assert.deepEqual(await readdir(root), [], 'close() removes the spares');
});

test('keepWorkDirs keeps the directory of each attempt', async () => {
  const kept = assignment({ commandLine: `/bin/sh -c 'echo x > marker'` });
  const runner = fx.runner({ keepWorkDirs: true, sandbox: 'off' });
  await runner.runAttempt(kept, fx.io('keep'));
  assert.ok(existsSync(`${runner.options.workRoot}/${kept.attemptId}/marker`));
});

test('resolveRunnerOptions fills defaults and refuses a sandbox uid range starting at root', () => {
  const o = resolveRunnerOptions({ workRoot: 'rel/work', blobs: fx.blobs, workerId: 'w' });
  assert.equal(o.sandbox, 'bwrap');
  assert.equal(o.sandboxUidBase, 2_147_400_000);
  assert.equal(o.killGraceMs, 2000);
  assert.equal(o.keepWorkDirs, false);
  assert.ok(o.workRoot.startsWith('/'));
  assert.ok(Object.isFrozen(o));
  assert.throws(
    () => resolveRunnerOptions({ workRoot: '/w', blobs: fx.blobs, workerId: 'w', sandboxUidBase: 0 }),
    /sandboxUidBase must be an integer >= 1/,
  );
});
