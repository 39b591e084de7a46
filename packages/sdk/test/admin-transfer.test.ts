/**
 * Whoami, the admin API, uploads/downloads with progress and presigning, against a throwaway
 * server that checks every signature (serve.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShoalApiError, type TransferProgress } from '../src/index.js';
import { client, json, serve } from './serve.js';

test('whoami and the admin routes', async () => {
  const srv = await serve((req, res) => {
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /whoami')
      return json(res, 200, { Name: 'admin', OwnerId: 1, AccessKeyId: 'ak', Admin: true });
    if (route === 'POST /users') {
      const { Name } = JSON.parse(req.body.toString()) as { Name: string };
      return json(res, 201, { Id: Name, OwnerId: 2 });
    }
    if (route === 'GET /users')
      return json(res, 200, { NextMarker: 'm1', Items: [{ Name: 'admin', OwnerId: 1 }] });
    if (route === 'GET /users?Marker=m1')
      return json(res, 200, { NextMarker: '', Items: [{ Name: 'alice', OwnerId: 2 }] });
    if (route === 'DELETE /users/admin')
      return json(res, 409, { Code: 'StateConflict', Message: 'admin cannot be deleted', RequestId: 'r9' });
    if (route === 'POST /users/alice/keys')
      return json(res, 201, { AccessKeyId: 'ak-a', AccessKeySecret: 'sk-a' });
    if (route === 'GET /users/alice/keys')
      return json(res, 200, {
        NextMarker: '',
        Items: [{ AccessKeyId: 'ak-a', State: 'Active', CreationTime: 't' }],
      });
    if (/^(POST \/keys\/ak-a\/(disable|enable)|DELETE \/(keys\/ak-a|users\/alice))$/.test(route))
      return json(res, route.startsWith('POST') ? 201 : 200, {});
    return json(res, 404, { Code: 'InvalidAction.NotFound', Message: route });
  });
  try {
    const c = client(srv.endpoint);
    assert.deepEqual(await c.whoami(), { Name: 'admin', OwnerId: 1, AccessKeyId: 'ak', Admin: true });
    assert.deepEqual(await c.createUser('alice'), { Id: 'alice', OwnerId: 2 });
    assert.equal(srv.seen.at(-1)!.headers['content-type'], 'application/json');
    const names: string[] = [];
    for await (const user of c.users()) names.push(user.Name);
    assert.deepEqual(names, ['admin', 'alice']);
    const err = await c.deleteUser('admin').catch((e: unknown) => e);
    assert.ok(err instanceof ShoalApiError);
    assert.deepEqual([err.code, err.status, err.requestId], ['StateConflict', 409, 'r9']);
    assert.deepEqual(await c.createAccessKey('alice'), { AccessKeyId: 'ak-a', AccessKeySecret: 'sk-a' });
    assert.equal((await c.listAccessKeys('alice')).Items[0]!.State, 'Active');
    await c.disableAccessKey('ak-a');
    await c.enableAccessKey('ak-a');
    await c.deleteAccessKey('ak-a');
    await c.deleteUser('alice');
    assert.deepEqual(
      srv.seen.slice(-4).map((s) => `${s.method} ${s.url}`),
      ['POST /keys/ak-a/disable', 'POST /keys/ak-a/enable', 'DELETE /keys/ak-a', 'DELETE /users/alice'],
    );
  } finally {
    await srv.close();
  }
});

test('uploadFile from a path, a Blob and bytes with progress; downloadObject with progress', async () => {
  const store = new Map<string, Buffer>();
  const srv = await serve((req, res) => {
    const path = req.url.split('?')[0]!;
    if (req.method === 'PUT') {
      store.set(path, req.body);
      return json(res, 201, {});
    }
    if (req.method === 'POST' && req.url.includes('?')) {
      const q = new URL(req.url, 'http://x').searchParams;
      assert.ok(q.has('presign'));
      return json(res, 200, {
        Url: `https://s3.example/${path}`,
        Method: q.get('Method'),
        Expires: Number(q.get('Expires')),
      });
    }
    const body = store.get(path);
    if (!body) return json(res, 404, { Code: 'InvalidResource.NotFound', Message: 'no object' });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  const dir = await mkdtemp(join(tmpdir(), 'shoal-sdk-upload-'));
  try {
    const big = new Uint8Array(300 * 1024).map((_, i) => i % 251);
    const file = join(dir, 'big.bin');
    await writeFile(file, big);
    const c = client(srv.endpoint);
    const seen: TransferProgress[] = [];
    await c.uploadFile('oss://shoal/in/big.bin', file, { onProgress: (p) => seen.push(p) });
    assert.ok(seen.length >= 3, `progress reported ${seen.length} times`);
    assert.deepEqual(seen.at(-1), { loadedBytes: big.byteLength, totalBytes: big.byteLength });
    assert.deepEqual(seen[0], { loadedBytes: 0, totalBytes: big.byteLength });
    assert.ok(seen.every((p, i) => i === 0 || p.loadedBytes >= seen[i - 1]!.loadedBytes));

    const down: TransferProgress[] = [];
    const got = await c.downloadObject('oss://shoal/in/big.bin', { onProgress: (p) => down.push(p) });
    assert.deepEqual(got, big);
    assert.deepEqual(down.at(-1), { loadedBytes: big.byteLength, totalBytes: big.byteLength });

    await c.uploadFile('s3://shoal/in/blob.txt', new Blob(['from a blob']));
    assert.equal(new TextDecoder().decode(await c.getObject('oss://shoal/in/blob.txt')), 'from a blob');

    // Without streaming (the browser default over HTTP/1.1) progress is reported once sent.
    const plain = client(srv.endpoint, { streamUploads: false });
    const once: number[] = [];
    await plain.uploadFile('oss://shoal/in/bytes', new Uint8Array([1, 2, 3]), {
      onProgress: (p) => once.push(p.loadedBytes),
    });
    assert.deepEqual(once, [0, 3]);
    assert.deepEqual([...(await plain.getObject('oss://shoal/in/bytes'))], [1, 2, 3]);

    const missing = await c.downloadObject('oss://shoal/nope').catch((e: unknown) => e);
    assert.ok(missing instanceof ShoalApiError && missing.code === 'InvalidResource.NotFound');

    const url = await c.presignObject('oss://shoal/in/big.bin', { method: 'PUT', expiresSec: 60 });
    assert.deepEqual(url, {
      Url: 'https://s3.example//objects/shoal/in/big.bin',
      Method: 'PUT',
      Expires: 60,
    });
    assert.equal(srv.seen.at(-1)!.url, '/objects/shoal/in/big.bin?Expires=60&Method=PUT&presign');
  } finally {
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  }
});
