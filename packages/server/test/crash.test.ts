/**
 * A crash of the server loses nothing: kill -9 while a 500-instance job runs, restart on the same data dir,
 * and every instance finishes exactly once with its output object present.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { simpleJob, signedFetch, type ApiResponse } from './helpers.js';
import { openStore } from '@shoal/store';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'shoal-crash-'));
let child: ChildProcess | undefined;
after(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function startServer(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [join(here, 'fixtures', 'run-server.js'), dataDir, '2'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve({ proc, url: m[1]! });
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code} before it was ready`)));
  });
}

function api(url: string, method: string, target: string, body?: unknown): Promise<ApiResponse> {
  const creds = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as {
    AccessKeyId: string;
    AccessKeySecret: string;
  };
  return signedFetch(url, creds.AccessKeyId, creds.AccessKeySecret, method, target, body);
}

test(
  'kill -9 during a 500-instance job, restart: every instance finishes exactly once',
  { timeout: 120_000 },
  async () => {
    let server = await startServer();
    child = server.proc;
    const job = simpleJob(
      "/bin/sh -c 'echo $BATCH_COMPUTE_DAG_INSTANCE_ID > out/$BATCH_COMPUTE_DAG_INSTANCE_ID.txt; sleep 0.02'",
      {
        InstanceCount: 500,
        OutputMapping: { 'out/': 'oss://crash/out/' },
      },
    );
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
    const outputs = readdirSync(join(dataDir, 'objects', 'crash', 'out'));
    assert.equal(outputs.length, 500);
    for (let i = 0; i < 500; i++)
      assert.equal(readFileSync(join(dataDir, 'objects', 'crash', 'out', `${i}.txt`), 'utf8'), `${i}\n`);
    server.proc.kill('SIGTERM');
    await new Promise((resolve) => server.proc.once('exit', resolve));
    child = undefined;

    // Exactly once: one OnInstanceFinished per instance, and no instance used up a retry because of the crash.
    const store = await openStore({ sqlitePath: join(dataDir, 'shoal.db') });
    try {
      const finished = new Map<number, number>();
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
          )
            lost++;
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
    } finally {
      await store.close();
    }
  },
);
