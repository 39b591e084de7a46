/**
 * Attacks a user's command might try, each as a job of a user who is not the admin, on a server with its
 * default sandbox. Each must fail in the expected way while the server, its worker and other users'
 * attempts carry on.
 *
 * Hostile commands (kill -9 -1, a fork bomb, allocating past the limit) run only where confinement is
 * proven in the same test: the server reports its sandbox with limits enforced, and each hostile script
 * first checks that it is not root and that its pid and mount namespaces are not the host's, and exits
 * before doing anything hostile otherwise (UNCONFINED).
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { sandboxSkip } from '@shoal/agent/testing';
import {
  signedFetch,
  simpleJob,
  startTestShoal,
  type ApiResponse,
  type Json,
  type TestShoal,
} from './helpers.js';

type Call = (method: string, target: string, body?: unknown) => Promise<ApiResponse>;

const HOST_PIDNS = readlinkSync('/proc/self/ns/pid');
const HOST_MNTNS = readlinkSync('/proc/self/ns/mnt');
// Refuses to go on unless confined; every hostile script starts with it.
const GUARD =
  'if [ "$(id -u)" = 0 ] || [ "$(readlink /proc/self/ns/pid)" = "$HOST_PIDNS" ] || ' +
  '[ "$(readlink /proc/self/ns/mnt)" = "$HOST_MNTNS" ]; then echo UNCONFINED; exit 97; fi; ';

let shoal: TestShoal;
let mallory: Call;
let limits = false;
const typesDir = mkdtempSync(join(tmpdir(), 'shoal-types-'));
const allowed = join(typesDir, 'allowed');

before(async () => {
  // A small instance type, so that the limits are reached quickly and cheaply.
  const types = join(typesDir, 'types.json');
  writeFileSync(
    types,
    JSON.stringify([{ InstanceType: 'test.tiny', CpuCore: 0.5, MemorySize: 0.0625, ProcessLimit: 64 }]),
  );
  // The one host directory the admin lets tasks mount, read-only.
  mkdirSync(allowed);
  writeFileSync(join(allowed, 'reference.txt'), 'shared reference\n');
  shoal = await startTestShoal({ slots: 2, instanceTypesFile: types, allowMounts: [`file://${allowed}`] });
  // A link planted in the allowed directory, leading to the data directory.
  symlinkSync(shoal.dataDir, join(allowed, 'to-data'));
  const available = await shoal.api('GET', '/available');
  assert.equal(available.json.Sandbox.Mode, 'bwrap', available.text);
  limits = available.json.Sandbox.Limits === true;
  const created = await shoal.api('POST', '/users', { Name: 'mallory' });
  assert.equal(created.status, 201, created.text);
  const key = await shoal.api('POST', '/users/mallory/keys');
  assert.equal(key.status, 201, key.text);
  mallory = (method, target, body) =>
    signedFetch(shoal.url, key.json.AccessKeyId, key.json.AccessKeySecret, method, target, body);
});

after(async () => {
  await shoal?.cleanup();
  rmSync(typesDir, { recursive: true, force: true });
});

interface Outcome {
  job: Json;
  instance: Json;
  stdout: string;
}

/** Runs a one-instance job as `call` (mallory by default) and returns how it ended, with its stdout. */
async function run(
  script: string,
  task: Record<string, unknown> = {},
  call: Call = mallory,
  timeoutMs = 30_000,
): Promise<Outcome> {
  const commandLine = `/bin/sh -c '${script.replace(/'/g, `'"'"'`)}'`;
  const description = simpleJob(commandLine, {
    ...task,
    Parameters: {
      Command: {
        CommandLine: commandLine,
        PackagePath: '',
        EnvVars: { HOST_PIDNS, HOST_MNTNS, SERVER_PID: String(process.pid), DATA: shoal.dataDir },
      },
      StdoutRedirectPath: '',
      StderrRedirectPath: '',
    },
  });
  const created = await call('POST', '/jobs', description);
  assert.equal(created.status, 201, created.text);
  const id = created.json.Id as string;
  const job = await shoal.waitForJob(id, undefined, timeoutMs);
  const instance = (await call('GET', `/jobs/${id}/tasks/task/instances/0`)).json;
  const stdout = (await call('GET', `/jobs/${id}/tasks/task/instances/0/log?stream=stdout`)).text;
  return { job, instance, stdout };
}

function confined(o: Outcome): void {
  assert.doesNotMatch(o.stdout, /UNCONFINED/, 'the command ran unconfined: the hostile part was not run');
}

function needsLimits(t: TestContext): boolean {
  if (!limits)
    t.skip(
      sandboxSkip('SKIPPED LOUDLY: this server enforces no cgroup limits here, so no hostile command runs'),
    );
  return limits;
}

/** A plain job of the admin still runs to the end: the worker carries on. */
async function workerCarriesOn(): Promise<void> {
  const after = await run('echo still-here', {}, shoal.api);
  assert.equal(after.job.State, 'Finished', JSON.stringify(after.instance));
  assert.equal(after.stdout, 'still-here\n');
}

/** Processes on this machine whose environment names the job. */
function processesOf(jobId: string): number[] {
  const marker = Buffer.from(`BATCH_COMPUTE_DAG_JOB_ID=${jobId}\u0000`);
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`).includes(marker)) pids.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

describe('sandbox attacks, as a user who is not the admin', () => {
  test("the data dir's credentials, master key and database cannot be read", async () => {
    const targets = ['credentials.json', 'master.key', 'shoal.db', 'objects', 'logs', 'work'].map(
      (f) => `"$DATA/${f}" "/proc/1/root$DATA/${f}"`,
    );
    const o = await run(
      `for p in ${targets.join(' ')}; do if [ -e "$p" ]; then echo "SEEN $p"; fi; ` +
        `if cat "$p" > /dev/null 2>&1; then echo "READ $p"; fi; done; ls / | tr "\\n" " "; echo`,
    );
    assert.equal(o.job.State, 'Finished', JSON.stringify(o.instance));
    assert.doesNotMatch(o.stdout, /SEEN|READ/);
    // The command's whole world: the system read-only, its working directory, /tmp, /dev, /proc.
    const system = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'etc', 'opt'].filter((d) =>
      existsSync(`/${d}`),
    );
    assert.deepEqual(
      o.stdout.trim().split(' ').sort(),
      ['batchcompute', 'dev', 'proc', 'tmp', ...system].sort(),
    );
  });

  test("another user's running attempt cannot be reached", async () => {
    // The admin's attempt holds a secret in its working directory and /tmp while mallory's runs.
    const secretJob = await shoal.api(
      'POST',
      '/jobs',
      simpleJob(`/bin/sh -c 'echo TOPSECRET > secret.txt; echo TOPSECRET > /tmp/secret.txt; sleep 4'`),
    );
    assert.equal(secretJob.status, 201);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const o = await run(
      'grep -rls TOPSECRET /tmp /batchcompute /dev/shm /proc/[0-9]*/cwd/ /proc/[0-9]*/root/tmp 2>/dev/null; ' +
        'ls "$DATA/work" 2>/dev/null; ps -e -o pid=,comm= | wc -l',
    );
    assert.equal(o.job.State, 'Finished', JSON.stringify(o.instance));
    assert.doesNotMatch(o.stdout, /TOPSECRET|secret/);
    // Only its own processes: sh, grep's successors ps and wc, and the attempt's pid 1.
    assert.ok(Number(o.stdout.trim().split('\n').pop()) <= 4, o.stdout);
    const admin = await shoal.waitForJob(secretJob.json.Id);
    assert.equal(admin.State, 'Finished');
  });

  test('nothing outside the working directory and mapped outputs can be written', async () => {
    const places = [
      '/x',
      '/usr/x',
      '/etc/x',
      '/bin/x',
      '/home/x',
      '/batchcompute/x',
      '/opt/x',
      '/var/x',
      '/dev/x',
      '/proc/x',
    ];
    const o = await run(
      `for p in ${places.join(' ')}; do if (echo x > $p) 2>/dev/null; then echo "WROTE $p"; fi; done; ` +
        'echo ok > in-workdir && echo ok > /tmp/in-tmp && echo ok > /home/out/in-output && cat in-workdir',
      { OutputMapping: { '/home/out/': 'oss://mallory-out/run/' } },
    );
    assert.equal(o.job.State, 'Finished', JSON.stringify(o.instance));
    assert.doesNotMatch(o.stdout, /WROTE/);
    assert.equal(o.stdout.trim(), 'ok');
    const uploaded = await mallory('GET', '/objects/mallory-out/run/in-output');
    assert.equal(uploaded.text, 'ok\n');
  });

  test('the server cannot be signalled, and kill -9 -1 ends only the attempt itself', async (t) => {
    if (!needsLimits(t)) return;
    const o = await run(
      `${GUARD} kill -9 "$SERVER_PID" 2>/dev/null; echo "kill-server=$?"; sleep 30 & kill -9 -1; echo survived`,
    );
    confined(o);
    assert.equal(o.job.State, 'Finished', JSON.stringify(o.instance));
    assert.equal(o.stdout, 'kill-server=1\nsurvived\n');
    process.kill(process.pid, 0); // the server (this process) is alive
    await workerCarriesOn();
  });

  test('a fork bomb hits the process limit and the attempt fails at once', async (t) => {
    if (!needsLimits(t)) return;
    const started = Date.now();
    const o = await run(`${GUARD} bomb() { bomb | bomb & }; bomb; sleep 60`, {
      AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'test.tiny', ResourceType: 'OnDemand' },
    });
    confined(o);
    assert.equal(o.job.State, 'Failed');
    assert.equal(o.instance.Result.ErrorCode, 'ProcessLimitExceeded', JSON.stringify(o.instance));
    assert.match(o.instance.Result.ErrorMessage, /limit of 64 processes \(instance type test\.tiny\)/);
    assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
    assert.deepEqual(processesOf(o.job.Id), []);
    await workerCarriesOn();
  });

  test('memory past the limit fails the attempt with OutOfMemory, naming the limit', async (t) => {
    if (!needsLimits(t)) return;
    // tail keeps the whole "line" in memory, and /dev/zero has no newline.
    const o = await run(`${GUARD} tail /dev/zero`, {
      AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'test.tiny', ResourceType: 'OnDemand' },
    });
    confined(o);
    assert.equal(o.job.State, 'Failed');
    assert.equal(o.instance.Result.ErrorCode, 'OutOfMemory', JSON.stringify(o.instance));
    assert.match(o.instance.Result.ErrorMessage, /memory limit of 64 MiB \(instance type test\.tiny\)/);
    assert.ok(o.instance.Usage.PeakMemoryBytes >= 60 * 1024 * 1024, JSON.stringify(o.instance.Usage));
    await workerCarriesOn();
  });

  test('Mounts reach only what the admin allowed, read-only as allowed', async () => {
    // Refused at submit: paths outside the rule, climbing out of it, and another user's bucket.
    assert.equal((await shoal.api('PUT', '/objects/admin-only/secret.txt', 'admin data\n')).status, 201);
    for (const source of [
      `file://${shoal.dataDir}/`,
      'file:///',
      `file://${allowed}/../`,
      `file://${allowed}-other/`,
      'nas://any.example.com:/',
      'oss://admin-only/',
    ]) {
      const res = await mallory(
        'POST',
        '/jobs',
        simpleJob('/bin/cat /m/secret.txt', { Mounts: { Entries: [{ Source: source, Destination: '/m' }] } }),
      );
      assert.equal(res.status, 400, `${source}: ${res.text}`);
      assert.match(res.json.Message, /Mounts\.Entries\[0\]\.Source/, source);
    }
    const writable = await mallory(
      'POST',
      '/jobs',
      simpleJob('/bin/true', {
        Mounts: { Entries: [{ Source: `file://${allowed}/`, Destination: '/m', WriteSupport: true }] },
      }),
    );
    assert.equal(writable.status, 400, writable.text);
    // The allowed directory, read-only: it cannot be written, and its link out leads nowhere.
    const o = await run(
      'cat /m/reference.txt; (echo x > /m/new) 2>/dev/null && echo WROTE; ' +
        'cat /m/to-data/credentials.json /m/to-data/master.key 2>/dev/null && echo READ; true',
      { Mounts: { Entries: [{ Source: `file://${allowed}/`, Destination: '/m' }] } },
    );
    assert.equal(o.job.State, 'Finished', JSON.stringify(o.instance));
    assert.equal(o.stdout, 'shared reference\n');
    assert.equal(existsSync(join(allowed, 'new')), false);
    const through = await run('cat /m/credentials.json', {
      Mounts: { Entries: [{ Source: `file://${allowed}/to-data`, Destination: '/m' }] },
    });
    assert.equal(through.job.State, 'Failed');
    assert.equal(through.instance.Result.ErrorCode, 'InputMappingFailed', JSON.stringify(through.instance));
    assert.doesNotMatch(through.stdout, /AccessKey/);
    await workerCarriesOn();
  });

  test('a process that left with setsid does not outlive the timeout', async () => {
    const o = await run(
      `${GUARD} setsid sh -c "trap \\"\\" TERM HUP; while :; do sleep 0.2; done" & sleep 600`,
      { Timeout: 2 },
    );
    confined(o);
    assert.equal(o.job.State, 'Failed');
    assert.equal(o.instance.Result.ErrorCode, 'Timeout', JSON.stringify(o.instance));
    assert.deepEqual(processesOf(o.job.Id), []);
    await workerCarriesOn();
  });
});
