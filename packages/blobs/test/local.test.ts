import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isShoalError } from '@shoal/core';
import { createBlobStore, LocalBlobStore } from '../src/index.js';
import { blobStoreContract } from './contract.js';
import { rejectsWithCode, uri } from './contract-context.js';

blobStoreContract('local', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'shoal-blobs-local-'));
  return {
    store: createBlobStore({ kind: 'local', root }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

// A grouped handle behaves the same in every respect; only when its writes reach the disk differs.
blobStoreContract('local, grouped durability', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'shoal-blobs-grouped-'));
  return {
    store: new LocalBlobStore({ root }).grouped(),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('LocalBlobStore specifics', () => {
  let base: string;
  let root: string;
  let store: LocalBlobStore;

  before(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'shoal-blobs-local-x-'));
    root = path.join(base, 'objects');
    store = new LocalBlobStore({ root });
  });
  after(() => rm(base, { recursive: true, force: true }));

  it('serves files dropped into the bucket directory by hand', async () => {
    await mkdir(path.join(root, 'inputs', 'data'), { recursive: true });
    await writeFile(path.join(root, 'inputs', 'data', 'in.txt'), 'by hand');
    assert.equal((await store.readObject(uri('inputs', 'data/in.txt'))).toString(), 'by hand');
    const info = await store.headObject(uri('inputs', 'data/in.txt'));
    assert.equal(info?.size, 7);
    assert.match(info?.etag ?? '', /^7-[0-9a-f]+$/);
    assert.equal(
      store.localPathOf(uri('inputs', 'data/in.txt')),
      path.join(root, 'inputs', 'data', 'in.txt'),
    );
    assert.equal(store.localPathOf(uri('inputs', 'data/')), path.join(root, 'inputs', 'data'));
  });

  it('a grouped handle shows its writes at once and flushes them together, also after some were deleted', async () => {
    const grouped = store.grouped();
    await grouped.putObject(uri('group', 'a.txt'), 'a');
    await grouped.uploadFile(path.join(root, 'group', 'a.txt'), uri('group', 'sub/b.txt'));
    assert.equal((await store.readObject(uri('group', 'sub/b.txt'))).toString(), 'a');
    await grouped.deleteObject(uri('group', 'a.txt'));
    await grouped.flush();
    await grouped.flush(); // nothing left to flush
    assert.equal((await store.readObject(uri('group', 'sub/b.txt'))).toString(), 'a');
  });

  it('a grouped handle with a filesystem syncer flushes the directories written to, once each, and keeps failed ones', async () => {
    const calls: string[][] = [];
    let fail = true;
    const grouped = store.grouped({
      syncFilesystems: async (dirs) => {
        calls.push([...dirs].sort());
        if (fail) throw new Error('disk gone');
      },
    });
    await grouped.putObject(uri('synced', 'a/1.txt'), '1');
    await grouped.putObject(uri('synced', 'a/2.txt'), '2');
    await grouped.putObject(uri('synced', 'b/3.txt'), '3');
    await assert.rejects(grouped.flush(), /disk gone/);
    fail = false;
    await grouped.flush(); // what failed is flushed again
    await grouped.flush(); // and then nothing is left
    const dirs = [path.join(root, 'synced', 'a'), path.join(root, 'synced', 'b')];
    assert.deepEqual(calls, [dirs, dirs]);
  });

  it('takes a handed-over file as it is (one inode) on its filesystem, and copies it from another', async () => {
    const same = path.join(base, 'handed.log');
    await writeFile(same, 'log line\n');
    await store.uploadFile(same, uri('handed', 'logs/stdout.1'), { handOver: true });
    const object = path.join(root, 'handed', 'logs', 'stdout.1');
    assert.equal((await stat(object)).ino, (await stat(same)).ino);
    assert.equal((await store.readObject(uri('handed', 'logs/stdout.1'))).toString(), 'log line\n');
    if (existsSync('/dev/shm')) {
      const shm = await mkdtemp(path.join('/dev/shm', 'shoal-handover-'));
      try {
        await writeFile(path.join(shm, 'x.log'), 'elsewhere');
        await store.uploadFile(path.join(shm, 'x.log'), uri('handed', 'logs/stdout.2'), { handOver: true });
        assert.equal((await store.readObject(uri('handed', 'logs/stdout.2'))).toString(), 'elsewhere');
      } finally {
        await rm(shm, { recursive: true, force: true });
      }
    }
  });

  it('makes a bucket again that was removed by hand after a write', async () => {
    await store.putObject(uri('gone', 'a.txt'), 'a');
    await rm(path.join(root, 'gone'), { recursive: true });
    await store.putObject(uri('gone', 'b.txt'), 'b');
    assert.equal((await store.readObject(uri('gone', 'b.txt'))).toString(), 'b');
  });

  it('writes atomically and hides its temporary directory', async () => {
    await store.putObject(uri('atomic', 'x/y.txt'), 'done');
    assert.deepEqual(await readdir(path.join(root, 'atomic', '.shoal-tmp')), []);
    const page = await store.listObjects(uri('atomic', ''), { delimiter: '/' });
    assert.deepEqual(page.prefixes, ['x/']);
    assert.deepEqual(page.objects, []);
    await rejectsWithCode(store.putObject(uri('atomic', '.shoal-tmp/z'), 'no'), 'InvalidParameter');
    await rejectsWithCode(store.putObject(uri('atomic', 'a//b'), 'no'), 'InvalidParameter');
  });

  it('refuses symbolic links that lead outside the bucket', async () => {
    const outside = path.join(base, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, 'secret'), 'secret');
    await mkdir(path.join(root, 'links'), { recursive: true });
    await symlink(path.join(outside, 'secret'), path.join(root, 'links', 'file-link'));
    await symlink(outside, path.join(root, 'links', 'dir-link'));
    await rejectsWithCode(store.readObject(uri('links', 'file-link')), 'InvalidParameter');
    await rejectsWithCode(store.readObject(uri('links', 'dir-link/secret')), 'InvalidParameter');
    await rejectsWithCode(store.putObject(uri('links', 'dir-link/new/file'), 'x'), 'InvalidParameter');
    await rejectsWithCode(store.listObjects(uri('links', 'dir-link/')), 'InvalidParameter');
    await store.deleteObject(uri('links', 'dir-link/secret')).then(
      () => assert.fail('delete through an outside link must be refused'),
      (err: unknown) => assert.ok(isShoalError(err) && err.code === 'InvalidParameter'),
    );
    assert.deepEqual(await readdir(outside), ['secret']);
    // Links are not objects: listings skip them.
    assert.deepEqual((await store.listObjects(uri('links', ''))).objects, []);
  });

  it('allows links that stay inside the bucket', async () => {
    await store.putObject(uri('inside', 'real/file.txt'), 'real');
    await symlink(path.join(root, 'inside', 'real'), path.join(root, 'inside', 'alias'));
    assert.equal((await store.readObject(uri('inside', 'alias/file.txt'))).toString(), 'real');
  });

  it('reports a key that clashes with a directory as InvalidParameter', async () => {
    await store.putObject(uri('clash', 'a/b'), 'x');
    await rejectsWithCode(store.putObject(uri('clash', 'a'), 'y'), 'InvalidParameter');
    await rejectsWithCode(store.putObject(uri('clash', 'a/b/c'), 'y'), 'InvalidParameter');
    await rejectsWithCode(store.readObject(uri('clash', 'a')), 'InvalidResource.NotFound');
  });

  it('prunes directories emptied by deletes', async () => {
    await store.putObject(uri('prune', 'a/b/c/d.txt'), 'x');
    await store.putObject(uri('prune', 'a/keep.txt'), 'x');
    await store.deleteObject(uri('prune', 'a/b/c/d.txt'));
    assert.deepEqual((await readdir(path.join(root, 'prune', 'a'))).sort(), ['keep.txt']);
    await store.putObject(uri('prune', 'a/b'), 'now a file');
    assert.equal((await store.readObject(uri('prune', 'a/b'))).toString(), 'now a file');
  });
});
