/**
 * Job operations, signing, retries and errors of the client against a throwaway server (see serve.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isConnectionRefused, ShoalApiError, ShoalClient } from '../src/index.js';
import { AK, client, json, serve } from './serve.js';

test('requests carry the documented headers and a signature over the exact target', async () => {
  const srv = await serve((req, res) => json(res, 200, { NextMarker: '', Items: [] }));
  try {
    const c = client(srv.endpoint + '/');
    await c.listJobs({ maxItemCount: 5, state: 'Running', marker: 'job-a b' });
    await c.getJobDescription('job-1');
    const [list, desc] = srv.seen;
    assert.equal(list!.url, '/jobs?Marker=job-a%20b&MaxItemCount=5&State=Running');
    assert.equal(desc!.url, '/jobs/job-1?description');
    const h = list!.headers;
    assert.equal(h.accept, 'application/json');
    assert.equal(h['content-type'], 'application/json');
    assert.equal(h['x-acs-version'], '2015-11-11');
    assert.equal(h['x-acs-signature-method'], 'HMAC-SHA1');
    assert.equal(h['x-acs-signature-version'], '1.0');
    assert.match(String(h['x-acs-signature-nonce']), /^[0-9a-f-]{36}$/);
    assert.notEqual(h['x-acs-signature-nonce'], desc!.headers['x-acs-signature-nonce']);
    assert.ok(Math.abs(Date.parse(String(h.date)) - Date.now()) < 5000);
    assert.match(String(h.authorization), /^acs test-ak:[A-Za-z0-9+/]+=*$/);
  } finally {
    await srv.close();
  }
});

test('a wrong secret is reported with the server code and request id', async () => {
  const srv = await serve((req, res) => json(res, 200, {}));
  try {
    const c = new ShoalClient({ endpoint: srv.endpoint, accessKeyId: AK, accessKeySecret: 'wrong' });
    const err = await c.getQuotas().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ShoalApiError);
    assert.equal(err.code, 'SignatureDoesNotMatch');
    assert.equal(err.status, 403);
    assert.equal(err.requestId, 'sig-req');
  } finally {
    await srv.close();
  }
});

test('create, actions and priority use the documented methods, paths and bodies', async () => {
  const srv = await serve((req, res) => {
    if (req.method === 'POST' && req.url.startsWith('/jobs?')) return json(res, 201, { Id: 'job-1' });
    if (req.method === 'POST' && req.url === '/jobs') return json(res, 201, { Id: 'job-2' });
    if (req.method === 'POST') return void res.writeHead(201).end();
    if (req.method === 'PUT') return json(res, 200, {});
    return void res.writeHead(204).end();
  });
  try {
    const c = client(srv.endpoint);
    const desc = { Name: 'n', Priority: 1, Type: 'DAG', DAG: { Tasks: {} } };
    assert.deepEqual(await c.createJob(desc, { idempotentToken: 'tok 1' }), { Id: 'job-1' });
    assert.deepEqual(await c.createJob(desc), { Id: 'job-2' });
    await c.stopJob('job-1');
    await c.startJob('job-1');
    await c.changeJobPriority('job-1', 7);
    await c.deleteJob('job-1');
    const calls = srv.seen.map((s) => `${s.method} ${s.url}`);
    assert.deepEqual(calls, [
      'POST /jobs?IdempotentToken=tok%201',
      'POST /jobs',
      'POST /jobs/job-1/stop',
      'POST /jobs/job-1/start',
      'PUT /jobs/job-1',
      'DELETE /jobs/job-1',
    ]);
    assert.deepEqual(JSON.parse(srv.seen[0]!.body.toString()), desc);
    assert.deepEqual(JSON.parse(srv.seen[4]!.body.toString()), { Priority: 7 });
  } finally {
    await srv.close();
  }
});

test('iterators follow NextMarker over every page', async () => {
  const srv = await serve((req, res) => {
    const marker = new URL(req.url, 'http://x').searchParams.get('Marker');
    if (req.url.startsWith('/jobs/job-1/tasks/t/instances')) {
      const start = Number(marker ?? '0');
      const items = [start, start + 1].filter((n) => n < 5).map((n) => ({ InstanceId: n }));
      return json(res, 200, { NextMarker: start + 2 < 5 ? String(start + 2) : '', Items: items });
    }
    if (!marker) return json(res, 200, { NextMarker: 'job-3', Items: [{ Id: 'job-1' }, { Id: 'job-2' }] });
    return json(res, 200, { NextMarker: '', Items: [{ Id: marker }] });
  });
  try {
    const c = client(srv.endpoint);
    const ids: string[] = [];
    for await (const job of c.jobs({ maxItemCount: 2 })) ids.push(job.Id);
    assert.deepEqual(ids, ['job-1', 'job-2', 'job-3']);
    const iids: number[] = [];
    for await (const inst of c.instances('job-1', 't')) iids.push(inst.InstanceId);
    assert.deepEqual(iids, [0, 1, 2, 3, 4]);
    assert.equal(srv.seen[1]!.url, '/jobs?Marker=job-3&MaxItemCount=2');
  } finally {
    await srv.close();
  }
});

test('GET is retried on 5xx and 429; POST only with an idempotent token', async () => {
  let failures = 0;
  const srv = await serve((req, res) => {
    if (failures > 0) {
      failures--;
      return json(res, req.method === 'GET' ? 429 : 503, { Code: 'InternalError', Message: 'try again' });
    }
    return json(res, req.method === 'POST' ? 201 : 200, { Id: 'job-9' });
  });
  try {
    const c = client(srv.endpoint, { retries: 2 });
    failures = 2;
    assert.equal((await c.getJob('job-9')).Id, 'job-9');
    assert.equal(srv.seen.length, 3);
    failures = 1;
    const err = await c
      .createJob({ Name: 'n', Priority: 1, Type: 'DAG', DAG: { Tasks: {} } })
      .catch((e: unknown) => e);
    assert.ok(err instanceof ShoalApiError);
    assert.equal(err.code, 'InternalError');
    assert.equal(err.status, 503);
    failures = 1;
    const created = await c.createJob(
      { Name: 'n', Priority: 1, Type: 'DAG', DAG: { Tasks: {} } },
      { idempotentToken: 't' },
    );
    assert.equal(created.Id, 'job-9');
    failures = 5;
    const exhausted = await c.getJob('job-9').catch((e: unknown) => e);
    assert.ok(exhausted instanceof ShoalApiError && exhausted.status === 429);
  } finally {
    await srv.close();
  }
});

test('non-JSON success and error bodies become InvalidResponse', async () => {
  const srv = await serve((req, res) => {
    res.writeHead(req.url === '/quotas' ? 200 : 418, { 'content-type': 'text/html' });
    res.end('<html>proxy page</html>');
  });
  try {
    const c = client(srv.endpoint);
    const ok = await c.getQuotas().catch((e: unknown) => e);
    assert.ok(ok instanceof ShoalApiError && ok.code === 'InvalidResponse' && ok.status === 200);
    const bad = await c.getAvailable().catch((e: unknown) => e);
    assert.ok(bad instanceof ShoalApiError && bad.code === 'InvalidResponse' && bad.status === 418);
  } finally {
    await srv.close();
  }
});

test('network failures and timeouts are retried, then reported with a code', async () => {
  const srv = await serve(() => undefined); // never answers
  try {
    const slow = client(srv.endpoint, { timeoutMs: 50, retries: 1 });
    const err = await slow.getJob('job-1').catch((e: unknown) => e);
    assert.ok(err instanceof ShoalApiError && err.code === 'RequestTimeout');
    assert.equal(srv.seen.length, 2);
  } finally {
    await srv.close();
  }
  const dead = client(srv.endpoint, { retries: 1 });
  const err = await dead.getJob('job-1').catch((e: unknown) => e);
  assert.ok(err instanceof ShoalApiError && err.code === 'NetworkError' && err.status === 0);
  assert.match(err.message, /ECONNREFUSED/);
});

test('a refused connection is retried by default, and not with retryRefusedConnections: false', async () => {
  const srv = await serve(() => undefined);
  await srv.close(); // nothing listens there now
  for (const [retryRefusedConnections, calls] of [
    [true, 3],
    [false, 1],
  ] as const) {
    let fetched = 0;
    const counting: typeof fetch = (input, init) => {
      fetched++;
      return fetch(input, init);
    };
    const c = client(srv.endpoint, {
      retries: 2,
      retryBaseDelayMs: 1,
      fetch: counting,
      retryRefusedConnections,
    });
    const err = await c.getJob('job-1').catch((e: unknown) => e);
    assert.ok(err instanceof ShoalApiError && err.code === 'NetworkError');
    assert.ok(isConnectionRefused(err));
    assert.equal(fetched, calls);
  }
});

test('waitForJob polls until a terminal state and reports every state', async () => {
  const states = ['Waiting', 'Running', 'Running', 'Finished'];
  const srv = await serve((req, res) => json(res, 200, { Id: 'job-1', State: states.shift() ?? 'Finished' }));
  try {
    const seen: string[] = [];
    const job = await client(srv.endpoint).waitForJob('job-1', {
      intervalMs: 5,
      onProgress: (j) => seen.push(j.State),
    });
    assert.equal(job.State, 'Finished');
    assert.deepEqual(seen, ['Waiting', 'Running', 'Running', 'Finished']);
    const aborted = await client(srv.endpoint)
      .waitForJob('job-1', { signal: AbortSignal.abort(new Error('stop waiting')) })
      .catch((e: unknown) => e);
    assert.ok(aborted instanceof Error && aborted.message === 'stop waiting');
  } finally {
    await srv.close();
  }
});

test('events and options validation', async () => {
  const srv = await serve((req, res) => json(res, 200, { NextMarker: '', Items: [{ Seq: 3 }] }));
  try {
    const page = await client(srv.endpoint).listEvents({ after: 2, maxItemCount: 50 });
    assert.equal(page.Items[0]!.Seq, 3);
    assert.equal(srv.seen[0]!.url, '/events?After=2&MaxItemCount=50');
  } finally {
    await srv.close();
  }
  assert.throws(
    () => new ShoalClient({ endpoint: 'ftp://x', accessKeyId: 'a', accessKeySecret: 'b' }),
    /http/,
  );
  assert.throws(
    () => new ShoalClient({ endpoint: 'http://x', accessKeyId: '', accessKeySecret: 'b' }),
    /accessKeyId/,
  );
  assert.throws(() => client('http://x', { retries: -1 }), /retries/);
});
