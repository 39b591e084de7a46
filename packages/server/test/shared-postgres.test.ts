/**
 * Two real server processes on one PostgreSQL, each with its own local worker: they share the work of one
 * job, and when one is killed mid-job the other finishes everything, each instance once, including the
 * attempts the dead one held (re-run once their lease expires, without using up a retry).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestPostgres, type TestPostgres } from '@shoal/store/testing';
import {
  serverProcessApi,
  signedFetch,
  simpleJob,
  startServerProcess,
  type ApiResponse,
  type ServerProcess,
} from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'shoal-shared-pg-'));
const masterKey = randomBytes(32).toString('hex');
let pg: TestPostgres;
let databaseUrl: string;
const servers: ChildProcess[] = [];

before(async () => {
  pg = await startTestPostgres(process.env.SHOAL_TEST_DATABASE_URL);
  databaseUrl = await pg.createDatabase();
});
after(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Unsandboxed unless said otherwise (a server without the sandbox takes no users but the admin). */
function startServer(name: string, sandbox: 'off' | 'bwrap' = 'off'): Promise<ServerProcess> {
  return startServerProcess(join(work, name), {
    sandbox,
    env: { SHOAL_DATABASE_URL: databaseUrl, SHOAL_MASTER_KEY: masterKey, SHOAL_LEASE_MS: '3000' },
  }).then((server) => {
    servers.push(server.proc);
    return server;
  });
}

const api = serverProcessApi;

test(
  'two servers on one PostgreSQL share a job; killed mid-job, one leaves the rest to the other',
  { timeout: 180_000 },
  async () => {
    // One after the other: the first creates the schema and the admin, the second joins them.
    const a = await startServer('a');
    const b = await startServer('b');
    const created = await api(a, 'POST', '/jobs', simpleJob('/bin/sleep 0.3', { InstanceCount: 40 }));
    assert.equal(created.status, 201, created.text);
    const id: string = created.json.Id;

    // Both workers have finished instances, and both still run some, when the first one is killed.
    for (const deadline = Date.now() + 60_000; ;) {
      const page = await api(b, 'GET', `/jobs/${id}/tasks/task/instances?MaxItemCount=200`);
      const items = page.json.Items as { State: string; WorkerId: string }[];
      const finishers = new Set(items.filter((i) => i.State === 'Finished').map((i) => i.WorkerId));
      const runners = new Set(items.filter((i) => i.State === 'Running').map((i) => i.WorkerId));
      if (finishers.size === 2 && runners.size === 2) break;
      assert.ok(
        Date.now() < deadline,
        `not both at work: finished by ${[...finishers]}, running on ${[...runners]}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    a.proc.kill('SIGKILL');
    await new Promise((resolve) => a.proc.once('exit', resolve));

    let final: ApiResponse;
    for (const deadline = Date.now() + 120_000; ;) {
      final = await api(b, 'GET', `/jobs/${id}`);
      if (['Finished', 'Failed', 'Stopped'].includes(final.json.State)) break;
      assert.ok(
        Date.now() < deadline,
        `job still ${final.json.State}: ${JSON.stringify(final.json.InstanceMetrics)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(final.json.State, 'Finished', final.text);
    assert.equal(final.json.InstanceMetrics.FinishedCount, 40);
    const instances = (await api(b, 'GET', `/jobs/${id}/tasks/task/instances?MaxItemCount=200`)).json
      .Items as {
      State: string;
      RetryCount: number;
      WorkerId: string;
      AttemptCount: number;
    }[];
    assert.equal(instances.length, 40);
    assert.ok(
      instances.every((i) => i.State === 'Finished' && i.RetryCount === 0),
      'none used up a retry',
    );
    const finishedBy = new Set(instances.map((i) => i.WorkerId));
    assert.equal(finishedBy.size, 2, 'both servers finished instances');
    assert.ok(
      instances.some((i) => i.AttemptCount > 1),
      'attempts the killed server held were run again by the other',
    );
    b.proc.kill('SIGTERM');
    await new Promise((resolve) => b.proc.once('exit', resolve));
  },
);

test(
  'a key disabled through one server is refused by the other within its 5 s key cache',
  { timeout: 60_000 },
  async () => {
    const c = await startServer('c', 'bwrap');
    const d = await startServer('d', 'bwrap');
    const user = await api(c, 'POST', '/users', { Name: 'erin' });
    assert.equal(user.status, 201, user.text);
    const key = (await api(c, 'POST', '/users/erin/keys')).json as {
      AccessKeyId: string;
      AccessKeySecret: string;
    };
    const asErin = (server: ServerProcess): Promise<ApiResponse> =>
      signedFetch(server.url, key.AccessKeyId, key.AccessKeySecret, 'GET', '/jobs');
    assert.equal((await asErin(d)).status, 200, 'the other server knows the new key (and caches it)');
    assert.equal((await api(c, 'POST', `/keys/${key.AccessKeyId}/disable`)).status, 201);
    assert.equal((await asErin(c)).status, 403, 'at once where it was disabled');
    const started = Date.now();
    for (;;) {
      const res = await asErin(d);
      if (res.status === 403) {
        assert.equal(res.json.Code, 'InvalidAccessKeyId.NotFound');
        break;
      }
      assert.ok(Date.now() - started < 6_000, `still accepted after ${Date.now() - started} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const s of [c, d]) {
      s.proc.kill('SIGTERM');
      await new Promise((resolve) => s.proc.once('exit', resolve));
    }
  },
);
