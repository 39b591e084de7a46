import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { leaseUid } from './uid-lease.js';

test('uid leases: one holder per uid, stale leases taken over, released on request', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'shoal-uid-lease-'));
  const dir = path.join(root, 'leases');
  try {
    const a = await leaseUid(dir, 5000, 3, 1);
    const b = await leaseUid(dir, 5000, 3, 1);
    assert.equal(a.uid, 5001);
    assert.equal(b.uid, 5002);
    // A lease whose holder is gone (no such pid) is free again.
    await writeFile(path.join(dir, '5000'), '999999999');
    const c = await leaseUid(dir, 5000, 3, 0);
    assert.equal(c.uid, 5000);
    await assert.rejects(leaseUid(dir, 5000, 3, 0), /all 3 sandbox uids from 5000 are leased/);
    await b.release();
    assert.equal((await leaseUid(dir, 5000, 3, 0)).uid, 5002);
    await a.release();
    await c.release();
    assert.deepEqual((await readdir(dir)).sort(), ['5002']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('uid leases refuse a directory others can write', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'shoal-uid-lease-'));
  try {
    const { chmod } = await import('node:fs/promises');
    await chmod(root, 0o777);
    await assert.rejects(leaseUid(root, 5000, 1, 0), /nobody else can write/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
