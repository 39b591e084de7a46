/**
 * The CLI as a user runs it: a real `shoal server` subprocess on a free port, and `shoal` commands as
 * further subprocesses that find it through the server's credentials.json (SHOAL_DATA_DIR).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, stopServer, type Harness, type Result } from './harness.js';

let h: Harness;

function shoal(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Result> {
  return h.run(args, options);
}

function jobIdOf(result: Result): string {
  const m = /^Job created: (job-\S+)$/m.exec(result.stdout);
  assert.ok(m, `no job id in: ${result.stdout}${result.stderr}`);
  return m[1]!;
}

async function jobState(id: string): Promise<string> {
  const result = await shoal(['job', id, '--json']);
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { Job: { State: string } }).Job.State;
}

async function waitForState(id: string, wanted: string[], timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await jobState(id);
    if (wanted.includes(state)) return state;
    if (Date.now() > deadline) assert.fail(`job ${id} stayed ${state}, wanted ${wanted.join('/')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  h = await startServer('shoal-cli-test-');
});

after(async () => {
  await stopServer(h);
});

test('the server writes credentials the CLI finds', async () => {
  const creds = JSON.parse(await readFile(join(h.dataDir, 'credentials.json'), 'utf8')) as Record<
    string,
    string
  >;
  assert.ok(creds['AccessKeyId'] && creds['AccessKeySecret']);
  assert.match(h.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('sub --wait runs a command to Finished; job, ch and log show it', async () => {
  const sub = await shoal(['sub', '/bin/echo hi', 'echo-job', '--wait']);
  assert.equal(sub.code, 0, sub.stdout + sub.stderr);
  const id = jobIdOf(sub);
  assert.match(sub.stdout, new RegExp(`^Job ${id} Finished$`, 'm'));
  assert.match(sub.stderr, /tasks 1\/1/);

  const list = await shoal(['job']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^#\s+Id\s+Name\s+State/m);
  assert.match(list.stdout, new RegExp(`^1\\s+${id}\\s+echo-job\\s+Finished\\s+1/1`, 'm'));

  const detail = await shoal(['ch', '1']);
  assert.equal(detail.code, 0, detail.stderr);
  assert.match(detail.stdout, new RegExp(`^Id:\\s+${id}$`, 'm'));
  assert.match(detail.stdout, /^1\s+task\s+Finished\s+1\/1/m);

  const instances = await shoal(['job', id, 'task']);
  assert.equal(instances.code, 0, instances.stderr);
  assert.match(instances.stdout, /^0\s+Finished\s+0\s/m);

  const log = await shoal(['log', '1']);
  assert.equal(log.code, 0, log.stderr);
  assert.match(log.stdout, /^==> task\.0 stdout <==\nhi\n/m);
  const stderrOnly = await shoal(['log', id, 'task', '0', '-e']);
  assert.equal(stderrOnly.code, 0);
  assert.doesNotMatch(stderrOnly.stdout, /hi/);

  const json = await shoal(['job', '--json', '-s', 'Finished']);
  assert.ok((JSON.parse(json.stdout) as { Id: string }[]).some((j) => j.Id === id));
});

test('a failing command ends Failed: sub --wait exits 1 and ch names the exit code', async () => {
  const sub = await shoal(['sub', 'sh -c "echo oops >&2; exit 3"', '--wait']);
  assert.equal(sub.code, 1, sub.stdout + sub.stderr);
  const id = jobIdOf(sub);
  assert.match(sub.stdout, new RegExp(`^Job ${id} Failed`, 'm'));
  const check = await shoal(['ch', id]);
  assert.match(check.stdout, /Failed instances:\n.*\ntask\s+0\s+3\s/);
  const log = await shoal(['log', id, '-e']);
  assert.match(log.stdout, /==> task\.0 stderr <==\noops\n/);
});

test('ch says why a task waits: here, a cluster without a worker', async () => {
  const cc = await shoal(['cc', 'idle', '-n', '1']);
  assert.equal(cc.code, 0, cc.stderr);
  const cluster = /Cluster created: (cls-\S+)/.exec(cc.stdout)![1]!;
  const sub = await shoal(['sub', 'true', '-c', cluster]);
  assert.equal(sub.code, 0, sub.stderr);
  const id = jobIdOf(sub);
  const check = await shoal(['ch', id]);
  assert.match(
    check.stdout,
    new RegExp(`Waiting:\\n.*\\ntask\\s+NoWorker\\s+no worker of cluster ${cluster} is running`),
  );
  assert.equal((await shoal(['stop', id])).code, 0);
});

test('start --failed re-runs only the failed instances; finished ones keep their one attempt', async () => {
  // Instance 1 of 3 fails; the others finish (or are stopped when it fails first).
  const sub = await shoal(['sub', `/bin/sh -c 'test "$BATCH_COMPUTE_DAG_INSTANCE_ID" != 1'`, '-n', '3']);
  assert.equal(sub.code, 0, sub.stderr);
  const id = jobIdOf(sub);
  await waitForState(id, ['Failed']);
  const instances = async () => {
    const shown = await shoal(['job', id, '1', '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const { Instances } = JSON.parse(shown.stdout) as {
      Instances: { InstanceId: number; State: string; AttemptCount: number }[];
    };
    return new Map(Instances.map((i) => [i.InstanceId, i]));
  };
  const before = await instances();
  assert.equal(before.get(1)?.State, 'Failed');
  const start = await shoal(['start', id, '--failed']);
  assert.equal(start.code, 0, start.stderr);
  assert.equal(start.stdout, `Started ${id}\n`);
  await waitForState(id, ['Failed']);
  const after = await instances();
  assert.equal(after.get(1)?.State, 'Failed');
  assert.ok(
    (after.get(1)?.AttemptCount ?? 0) > (before.get(1)?.AttemptCount ?? 0),
    'the failed one ran again',
  );
  for (const [iid, was] of before)
    if (was.State === 'Finished')
      assert.deepEqual(
        [after.get(iid)?.State, after.get(iid)?.AttemptCount],
        ['Finished', was.AttemptCount],
        `instance ${iid} was kept as it was`,
      );
});

test('stop, start and delete a job', async () => {
  const sub = await shoal(['sub', 'sleep 30']);
  assert.equal(sub.code, 0, sub.stderr);
  const id = jobIdOf(sub);
  assert.match(sub.stdout, /shoal job job-/);

  const stop = await shoal(['stop', id]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout, `Stopped ${id}\n`);
  await waitForState(id, ['Stopped']);

  const start = await shoal(['rj', id]);
  assert.equal(start.code, 0, start.stderr);
  assert.equal(start.stdout, `Started ${id}\n`);
  assert.notEqual(await jobState(id), 'Stopped');

  assert.equal((await shoal(['sj', id])).code, 0);
  await waitForState(id, ['Stopped']);
  const del = await shoal(['delete', id, '-y']);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(del.stdout, `Deleted ${id}\n`);

  const gone = await shoal(['job', id]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^Error: InvalidResource\.NotFound: .+ \(RequestId \S+\)$/m);
});

test('sub --file job.cfg uploads the pack and runs the DAG in order', async () => {
  const dir = join(h.root, 'cfgjob');
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(
    join(dir, 'src', 'step.sh'),
    'echo "step $1 instance $BATCH_COMPUTE_DAG_INSTANCE_ID $GREETING"\n',
  );
  await writeFile(
    join(dir, 'job.cfg'),
    [
      '[DEFAULT]',
      'job_name = cfg-job',
      'pack = ./src/',
      'deps = first->second',
      'env = GREETING:hello',
      '[first]',
      'cmd = sh step.sh one',
      '[second]',
      'cmd = sh step.sh two',
      'nodes = 2',
      '',
    ].join('\n'),
  );
  const sub = await shoal(['sub', '--file', 'cfgjob/job.cfg', '--wait']);
  assert.equal(sub.code, 0, sub.stdout + sub.stderr);
  assert.match(sub.stderr, /Packed .*src -> oss:\/\/shoal\/cli\/[0-9a-f-]+\/worker\.tar\.gz/);
  const id = jobIdOf(sub);
  const log = await shoal(['log', id]);
  assert.match(log.stdout, /==> first\.0 stdout <==\nstep one instance 0 hello\n/);
  assert.match(log.stdout, /==> second\.1 stdout <==\nstep two instance 1 hello\n/);
  const desc = await shoal(['job', id, '-d']);
  assert.deepEqual(JSON.parse(desc.stdout).DAG.Dependencies, { first: ['second'] });
});

test('connection from flags; errors are printed as Code: Message', async () => {
  const creds = JSON.parse(await readFile(join(h.dataDir, 'credentials.json'), 'utf8')) as Record<
    string,
    string
  >;
  const empty = join(h.root, 'nowhere');
  const flags = ['--endpoint', h.endpoint, '--access-key-id', creds['AccessKeyId']!];
  const ok = await shoal(['job', ...flags, '--access-key-secret', creds['AccessKeySecret']!], {
    env: { SHOAL_DATA_DIR: empty },
  });
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await shoal(['job', ...flags, '--access-key-secret', 'wrong'], {
    env: { SHOAL_DATA_DIR: empty },
  });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Error: \S+: .+/);
  const none = await shoal(['job'], { env: { SHOAL_DATA_DIR: empty } });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^Error: no Shoal connection/);
  const debug = await shoal(['job'], { env: { SHOAL_DATA_DIR: empty, DEBUG: '1' } });
  assert.match(debug.stderr, /\n\s+at /);
});

test('bad numbers and states are refused with exit 2, naming the flag, the value and what is allowed', async () => {
  const env = { SHOAL_DATA_DIR: join(h.root, 'nowhere') };
  const cases: [string[], RegExp][] = [
    [
      ['sub', 'true', '-n', 'abc', '--show_json'],
      /option '-n, --nodes <n>' argument 'abc' is invalid\. expected a whole number >= 1/,
    ],
    [['sub', 'true', '-n', '0', '--show_json'], /argument '0' is invalid\. expected a whole number >= 1/],
    [
      ['sub', 'true', '--timeout', '-5', '--show_json'],
      /option '--timeout <duration>' argument '-5' is invalid\. expected a duration/,
    ],
    [
      ['sub', 'true', '--priority', '1001', '--show_json'],
      /argument '1001' is invalid\. expected a whole number from 0 to 1000/,
    ],
    [
      ['sub', 'true', '--max_retry_count', 'x', '--show_json'],
      /--max_retry_count <n>' argument 'x' is invalid/,
    ],
    [['job', '-t', 'ten'], /option '-t, --top <n>' argument 'ten' is invalid/],
    [['job', '-s', 'Running,Done'], /"Done" is not one of Waiting, Running, Finished, Failed, Stopped/],
    [['event', '--top', '0'], /argument '0' is invalid\. expected a whole number from 1 to 1000/],
    [['uj', '1', '-p', 'high'], /argument 'high' is invalid\. expected a whole number from 0 to 1000/],
    [['server', '--port', '70000'], /argument '70000' is invalid\. expected a whole number from 0 to 65535/],
    [['server', '--sandbox', 'on'], /argument 'on' is invalid\. expected one of bwrap, off/],
  ];
  for (const [args, message] of cases) {
    const r = await shoal(args, { env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
  const units = await shoal(['sub', 'true', '--timeout', '10m', '--show_json'], { env });
  assert.equal(units.code, 0, units.stderr);
  assert.equal(JSON.parse(units.stdout).DAG.Tasks.task.Timeout, 600);
});

test('--show_dag refuses a dependency on a missing task, as sub does', async () => {
  const dir = join(h.root, 'missing-dep');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'job.cfg'), '[DEFAULT]\ndeps = split->count\n[split]\ncmd = true\n');
  for (const flag of ['--show_dag', '--show_json']) {
    const r = await shoal(['sub', '--file', 'job.cfg', flag], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /deps: "count" is not a task of this job \(tasks: split\)/);
  }
});

test('--show_json prints the description without a server; usage errors exit non-zero', async () => {
  const show = await shoal(['sub', 'python main.py', '-n', '3', '-r', 'oss://b/x/:/home/in', '--show_json'], {
    env: { SHOAL_DATA_DIR: join(h.root, 'nowhere') },
  });
  assert.equal(show.code, 0, show.stderr);
  const desc = JSON.parse(show.stdout);
  assert.equal(desc.DAG.Tasks.task.InstanceCount, 3);
  assert.deepEqual(desc.DAG.Tasks.task.InputMapping, { 'oss://b/x/': '/home/in' });
  const missing = await shoal(['sub']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^Error: Missing required option: cmd/);
  const unknown = await shoal(['nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command/);
});
