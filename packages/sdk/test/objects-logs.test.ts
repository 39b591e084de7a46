/**
 * Shoal's object and log routes through the client, against a throwaway server (see serve.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShoalApiError } from '../src/index.js';
import { client, json, serve } from './serve.js';

test('objects: raw bodies signed as octet-stream, keys encoded per segment', async () => {
  const store = new Map<string, Buffer>();
  const srv = await serve((req, res) => {
    const path = req.url.split('?')[0]!;
    if (req.method === 'PUT') {
      store.set(path, req.body);
      return json(res, 201, {});
    }
    if (req.method === 'GET' && req.url.startsWith('/objects/shoal?')) {
      return json(res, 200, {
        NextMarker: '',
        Items: [{ Key: 'a b/c', Size: 2, LastModified: 'x' }],
        Prefixes: ['p/'],
      });
    }
    const body = store.get(path);
    if (!body) return json(res, 404, { Code: 'InvalidResource.NotFound', Message: 'no object' });
    if (req.method === 'DELETE') {
      store.delete(path);
      return void res.writeHead(204).end();
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  try {
    const c = client(srv.endpoint);
    await c.putObject('oss://shoal/a b/c', new Uint8Array([1, 2]));
    assert.equal(srv.seen[0]!.url, '/objects/shoal/a%20b/c');
    assert.equal(srv.seen[0]!.headers['content-type'], 'application/octet-stream');
    assert.deepEqual([...(await c.getObject('oss://shoal/a b/c'))], [1, 2]);
    assert.equal((await c.headObject('oss://shoal/a b/c')).size, 2);
    const list = await c.listObjects('oss://shoal/a b/', { delimiter: '/', maxItemCount: 10 });
    assert.equal(srv.seen.at(-1)!.url, '/objects/shoal?Delimiter=%2F&MaxItemCount=10&Prefix=a%20b%2F');
    assert.deepEqual(list.Prefixes, ['p/']);
    await c.deleteObject('oss://shoal/a b/c');
    const head = await c.headObject('oss://shoal/a b/c').catch((e: unknown) => e);
    assert.ok(head instanceof ShoalApiError && head.code === 'InvalidResource.NotFound');
    await c.putObject('s3://shoal/t.txt', 'héllo');
    assert.equal(new TextDecoder().decode(await c.getObject('oss://shoal/t.txt')), 'héllo');
  } finally {
    await srv.close();
  }
});

test('logs: readLog returns text, followLog streams and resumes at the offset reached', async () => {
  let broke = false;
  const srv = await serve((req, res) => {
    const q = new URL(req.url, 'http://x').searchParams;
    if (q.get('follow') !== 'true') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(`${q.get('stream')} log\n`);
    }
    const full = 'line1\nline2\nline3\n';
    const offset = Number(q.get('offset') ?? '0');
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (!broke) {
      broke = true;
      res.write(full.slice(offset, 6));
      setTimeout(() => res.destroy(), 20); // connection breaks mid-stream
      return;
    }
    res.write(full.slice(offset, 12));
    setTimeout(() => res.end(full.slice(12)), 20);
  });
  try {
    const c = client(srv.endpoint);
    assert.equal(await c.readLog('job-1', 'task', 0, 'stderr'), 'stderr log\n');
    assert.equal(srv.seen[0]!.url, '/jobs/job-1/tasks/task/instances/0/log?stream=stderr');
    let text = '';
    for await (const chunk of c.followLog('job-1', 'task', 0, 'stdout'))
      text += new TextDecoder().decode(chunk);
    assert.equal(text, 'line1\nline2\nline3\n');
    assert.equal(srv.seen[1]!.url, '/jobs/job-1/tasks/task/instances/0/log?follow=true&stream=stdout');
    assert.equal(
      srv.seen[2]!.url,
      '/jobs/job-1/tasks/task/instances/0/log?follow=true&offset=6&stream=stdout',
    );
  } finally {
    await srv.close();
  }
});
