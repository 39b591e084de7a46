/**
 * A crash of the server loses nothing: kill -9 while a 500-instance job runs, restart on the same data dir,
 * and every instance finishes exactly once with its output object present. And it leaves nothing running:
 * commands the dead server started (left behind when its whole process group was killed) are killed by the
 * restarted one, so no instance runs twice at once.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  serverProcessApi,
  simpleJob,
  startServerProcess,
  type ApiResponse,
  type ServerProcess,
} from './helpers.js';
import { openStore } from '@shoal/store';

const dataDir = mkdtempSync(join(tmpdir(), 'shoal-crash-'));
let child: ChildProcess | undefined;
after(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(runs, { recursive: true, force: true });
});

// Each completed run of a command leaves a file here, through a writable host mount: runs are counted, not
// inferred from events.
const runs = mkdtempSync(join(tmpdir(), 'shoal-crash-runs-'));
chmodSync(runs, 0o1777); // the sandbox's uids write here

function startServer(sandbox: 'bwrap' | 'off' = 'bwrap'): Promise<ServerProcess> {
  return startServerProcess(dataDir, { sandbox, env: { SHOAL_ALLOW_MOUNT: `file://${runs}:rw` } });
}

function api(url: string, method: string, target: string, body?: unknown): Promise<ApiResponse> {
  return serverProcessApi({ url, dataDir }, method, target, body);
}

/** Objects a Finished instance must have: its output and, with redirect paths, its two log objects. */
function expectedObjects(variant: string, id: string, i: number, redirect: boolean): [string, string][] {
  const objects = join(dataDir, 'objects', 'crash', variant);
  const out: [string, string][] = [[join(objects, 'out', `${i}.txt`), `${i}\n`]];
  if (redirect)
    out.push(
      [join(objects, 'logs', `stdout.${id}.task.${i}`), `out ${i}\n`],
      [join(objects, 'logs', `stderr.${id}.task.${i}`), `err ${i}\n`],
    );
  return out;
}

for (const redirect of [false, true])
  test(
    `kill -9 during a 500-instance job${redirect ? ' with stdout/stderr redirected to objects' : ''}, restart: every instance finishes exactly once`,
    { timeout: 120_000 },
    async () => {
      const variant = redirect ? 'redirect' : 'plain';
      for (const name of readdirSync(runs)) rmSync(join(runs, name));
      let server = await startServer();
      child = server.proc;
      const job = simpleJob(
        "/bin/sh -c 'i=$BATCH_COMPUTE_DAG_INSTANCE_ID; echo $i > out/$i.txt; echo out $i; echo err $i >&2; sleep 0.02; " +
          ': > /runs/$i.$(od -An -N8 -tx1 /dev/urandom | tr -d " \\n")\'',
        {
          InstanceCount: 500,
          OutputMapping: { 'out/': `oss://crash/${variant}/out/` },
          Mounts: { Entries: [{ Source: `file://${runs}/`, Destination: '/runs/', WriteSupport: true }] },
        },
      );
      if (redirect)
        Object.assign(job.DAG.Tasks.task.Parameters, {
          StdoutRedirectPath: `oss://crash/${variant}/logs/`,
          StderrRedirectPath: `oss://crash/${variant}/logs/`,
        });
      const created = await api(server.url, 'POST', '/jobs', job);
      assert.equal(created.status, 201, created.text);
      const id: string = created.json.Id;

      for (;;) {
        const state = await api(server.url, 'GET', `/jobs/${id}`);
        if (state.json.InstanceMetrics.FinishedCount >= 100) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      server.proc.kill('SIGKILL');
      await new Promise((resolve) => server.proc.once('exit', resolve));
      // What the dead server had recorded Finished has its objects already: reported means stored.
      const dead = await openStore({ sqlitePath: join(dataDir, 'shoal.db') });
      try {
        const reported = await dead.listInstances(id, 'task', { limit: 500, states: ['Finished'] });
        assert.ok(reported.items.length >= 100);
        for (const { instanceId } of reported.items)
          for (const [path, content] of expectedObjects(variant, id, instanceId, redirect))
            assert.equal(readFileSync(path, 'utf8'), content, path);
      } finally {
        await dead.close();
      }

      server = await startServer();
      child = server.proc;
      let final: ApiResponse;
      const deadline = Date.now() + 90_000;
      for (;;) {
        final = await api(server.url, 'GET', `/jobs/${id}`);
        if (['Finished', 'Failed', 'Stopped'].includes(final.json.State)) break;
        assert.ok(Date.now() < deadline, `job still ${final.json.State}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(final.json.State, 'Finished', final.text);
      assert.deepEqual(final.json.InstanceMetrics, {
        WaitingCount: 0,
        RunningCount: 0,
        FinishedCount: 500,
        FailedCount: 0,
        StoppedCount: 0,
      });
      assert.equal(readdirSync(join(dataDir, 'objects', 'crash', variant, 'out')).length, 500);
      if (redirect)
        assert.equal(readdirSync(join(dataDir, 'objects', 'crash', variant, 'logs')).length, 1000);
      for (let i = 0; i < 500; i++)
        for (const [path, content] of expectedObjects(variant, id, i, redirect))
          assert.equal(readFileSync(path, 'utf8'), content, path);
      server.proc.kill('SIGTERM');
      await new Promise((resolve) => server.proc.once('exit', resolve));
      child = undefined;

      // Exactly once: one OnInstanceFinished per instance, and no instance used up a retry because of the crash.
      const store = await openStore({ sqlitePath: join(dataDir, 'shoal.db') });
      try {
        const finished = new Map<number, number>();
        const requeued = new Set<number>();
        let lost = 0;
        for (let after = 0; ;) {
          const events = await store.listEvents(after, 1000);
          if (events.length === 0) break;
          for (const e of events) {
            if (e.jobId === id && e.type === 'OnInstanceFinished')
              finished.set(e.instanceId!, (finished.get(e.instanceId!) ?? 0) + 1);
            if (
              e.jobId === id &&
              e.type === 'OnInstanceWaiting' &&
              String(e.detail.Reason ?? '').includes('restarted')
            ) {
              lost++;
              requeued.add(e.instanceId!);
            }
          }
          after = events[events.length - 1]!.seq;
        }
        assert.equal(finished.size, 500);
        assert.ok(
          [...finished.values()].every((n) => n === 1),
          'each instance finished exactly once',
        );
        const page = await store.listInstances(id, 'task', { limit: 500 });
        assert.ok(
          page.items.every((i) => i.retryCount === 0),
          'cut-off attempts did not consume retries',
        );
        assert.ok(lost >= 1, 'the restart re-queued the attempts the crash cut off');
        // Runs, counted from the files each completed command left: every instance ran to its end, and only
        // those whose attempt the crash cut off (re-queued by the restart) may have done so twice.
        const completed = new Map<number, number>();
        for (const name of readdirSync(runs)) {
          const instance = Number(name.split('.')[0]);
          completed.set(instance, (completed.get(instance) ?? 0) + 1);
        }
        assert.equal(completed.size, 500, 'every instance ran to its end');
        const twice = [...completed].filter(([, n]) => n > 1).map(([i]) => i);
        assert.deepEqual(
          twice.filter((i) => !requeued.has(i)),
          [],
          'no instance ran twice unless the crash cut off its attempt',
        );
        assert.ok(
          [...completed.values()].every((n) => n <= 2),
          'none ran more than twice',
        );
      } finally {
        await store.close();
      }
    },
  );

/** The pids of the direct children of `parent` (from /proc/<pid>/stat). */
function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Host pids of the processes whose command line is exactly `argv` (read from /proc). */
function processesRunning(argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === wanted) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

for (const sandbox of ['off', 'bwrap'] as const) {
  test(
    `kill -9 while commands run (sandbox ${sandbox}): nothing the dead server started runs on after the restart`,
    { timeout: 120_000 },
    async () => {
      let server = await startServer(sandbox);
      child = server.proc;
      // A duration no other process on this machine uses, so that only this job's commands match.
      const seconds = `600.${Date.now() % 100000}${process.pid}`;
      const job = simpleJob(`/bin/sleep ${seconds}`, { InstanceCount: 2 });
      const created = await api(server.url, 'POST', '/jobs', job);
      assert.equal(created.status, 201, created.text);
      const id: string = created.json.Id;
      let left: number[] = [];
      for (const deadline = Date.now() + 30_000; left.length < 2;) {
        assert.ok(Date.now() < deadline, `the commands did not start: ${left.length} running`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        left = processesRunning(['/bin/sleep', seconds]);
      }
      // The server and its spawn helper die at once, as when a supervisor kills the server's process group:
      // the commands, in sessions of their own, are left behind.
      const helpers = childrenOf(server.proc.pid!);
      server.proc.kill('SIGKILL');
      for (const pid of helpers) process.kill(pid, 'SIGKILL');
      await new Promise((resolve) => server.proc.once('exit', resolve));
      const alive = (): number[] => left.filter((pid) => existsSync(`/proc/${pid}`));
      // Unsandboxed commands run on: the restart has to find and kill them (killOrphans). Sandboxed ones
      // end with their sandbox, which dies with the spawn helper (bubblewrap's --die-with-parent).
      if (sandbox === 'off') assert.deepEqual(alive(), left, 'the commands outlived their server');

      server = await startServer(sandbox);
      child = server.proc;
      for (const deadline = Date.now() + 10_000; alive().length > 0;) {
        assert.ok(Date.now() < deadline, `still running after the restart: ${alive().join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const stopped = await api(server.url, 'POST', `/jobs/${id}/stop`);
      assert.ok(stopped.status < 300, stopped.text);
      server.proc.kill('SIGTERM');
      await new Promise((resolve) => server.proc.once('exit', resolve));
      child = undefined;
    },
  );
}
