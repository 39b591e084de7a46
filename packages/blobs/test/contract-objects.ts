import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import { ContractContext, readAll, rejectsWithCode, sha256, uri } from './contract-context.js';

/** Single-object cases: round trips, bodies of every kind, ranges, missing objects, refused keys. */
export function objectCases(ctx: ContractContext): void {
  it('round-trips put, head, get, read and delete', async () => {
    const { store } = ctx;
    const b = ctx.bucket();
    const u = uri(b, 'jobs/job-1/description.json');
    await store.putObject(u, '{"Name":"x"}');
    const info = await store.headObject(u);
    assert.ok(info);
    assert.equal(info.key, 'jobs/job-1/description.json');
    assert.equal(info.size, 12);
    assert.ok(info.lastModifiedMs > Date.now() - 60_000 && info.lastModifiedMs <= Date.now() + 60_000);
    assert.equal((await readAll(await store.getObject(u))).toString(), '{"Name":"x"}');
    assert.equal((await store.readObject(u)).toString(), '{"Name":"x"}');
    await store.putObject(u, Buffer.from('second'));
    assert.equal((await store.readObject(u)).toString(), 'second');
    await store.putObject(u, Readable.from([Buffer.from('th'), Buffer.from('ird')]));
    assert.equal((await store.readObject(u)).toString(), 'third');
    await store.deleteObject(u);
    assert.equal(await store.headObject(u), undefined);
    await store.deleteObject(u); // deleting a missing object is not an error
  });

  it('treats oss:// and s3:// URIs as the same object', async () => {
    const b = ctx.bucket();
    await ctx.store.putObject(uri(b, 'same.txt', 'oss'), 'one object');
    assert.equal((await ctx.store.readObject(uri(b, 'same.txt', 's3'))).toString(), 'one object');
  });

  it('keeps binary data byte for byte', async () => {
    const b = ctx.bucket();
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300_000)]);
    await ctx.store.putObject(uri(b, 'bin/data.bin'), data);
    assert.equal(sha256(await readAll(await ctx.store.getObject(uri(b, 'bin/data.bin')))), sha256(data));
    assert.equal((await ctx.store.headObject(uri(b, 'bin/data.bin')))?.size, data.length);
  });

  it('moves a 20 MiB file through uploadFile and downloadFile', async () => {
    const b = ctx.bucket();
    const dir = await ctx.dir('big');
    const data = randomBytes(20 * 1024 * 1024);
    await writeFile(path.join(dir, 'in.bin'), data);
    await ctx.store.uploadFile(path.join(dir, 'in.bin'), uri(b, 'big/in.bin'));
    assert.equal((await ctx.store.headObject(uri(b, 'big/in.bin')))?.size, data.length);
    const out = path.join(dir, 'nested', 'out.bin');
    await ctx.store.downloadFile(uri(b, 'big/in.bin'), out);
    assert.equal(sha256(await readFile(out)), sha256(data));
  });

  it('stores empty objects', async () => {
    const b = ctx.bucket();
    const dir = await ctx.dir('empty');
    await ctx.store.putObject(uri(b, 'empty.txt'), '');
    assert.equal((await ctx.store.readObject(uri(b, 'empty.txt'))).length, 0);
    assert.equal((await ctx.store.headObject(uri(b, 'empty.txt')))?.size, 0);
    await writeFile(path.join(dir, 'zero'), '');
    await ctx.store.uploadFile(path.join(dir, 'zero'), uri(b, 'zero'));
    await ctx.store.downloadFile(uri(b, 'zero'), path.join(dir, 'zero-back'));
    assert.equal((await stat(path.join(dir, 'zero-back'))).size, 0);
  });

  it('accepts keys with spaces and unicode', async () => {
    const b = ctx.bucket();
    const key = 'dir with space/ünïcødé 文件 😀 (1).txt';
    await ctx.store.putObject(uri(b, key), 'hello');
    assert.equal((await ctx.store.readObject(uri(b, key))).toString(), 'hello');
    const page = await ctx.store.listObjects(uri(b, 'dir with space/'));
    assert.deepEqual(
      page.objects.map((o) => o.key),
      [key],
    );
  });

  it('reads byte ranges with an inclusive end', async () => {
    const b = ctx.bucket();
    const u = uri(b, 'range.txt');
    await ctx.store.putObject(u, '0123456789');
    assert.equal((await readAll(await ctx.store.getObject(u, { start: 2, end: 5 }))).toString(), '2345');
    assert.equal((await readAll(await ctx.store.getObject(u, { start: 7 }))).toString(), '789');
    assert.equal((await readAll(await ctx.store.getObject(u, { start: 8, end: 100 }))).toString(), '89');
    await rejectsWithCode(ctx.store.getObject(u, { start: 10 }), 'InvalidParameter');
    await rejectsWithCode(ctx.store.getObject(u, { start: 5, end: 4 }), 'InvalidParameter');
  });

  it('reports missing objects as InvalidResource.NotFound', async () => {
    const b = ctx.bucket();
    await ctx.store.putObject(uri(b, 'present'), 'x');
    await rejectsWithCode(ctx.store.readObject(uri(b, 'absent')), 'InvalidResource.NotFound');
    await rejectsWithCode(ctx.store.getObject(uri(b, 'absent')), 'InvalidResource.NotFound');
    await rejectsWithCode(ctx.store.readObject(uri(ctx.bucket(), 'no-bucket')), 'InvalidResource.NotFound');
    const dir = await ctx.dir('missing');
    await rejectsWithCode(
      ctx.store.downloadFile(uri(b, 'absent'), path.join(dir, 'f')),
      'InvalidResource.NotFound',
    );
    assert.equal(await ctx.store.headObject(uri(b, 'absent')), undefined);
    assert.equal(await ctx.store.headObject(uri(ctx.bucket(), 'absent')), undefined);
  });

  it('refuses keys that could escape, and writes to prefixes', async () => {
    const b = ctx.bucket();
    for (const key of ['..', '../x', 'a/../../x', 'a/./b', '/abs']) {
      await rejectsWithCode(ctx.store.putObject(uri(b, key), 'x'), 'InvalidParameter');
      await rejectsWithCode(ctx.store.readObject(uri(b, key)), 'InvalidParameter');
    }
    await rejectsWithCode(ctx.store.putObject(uri(b, 'dir/'), 'x'), 'InvalidParameter');
    await rejectsWithCode(ctx.store.putObject(uri(b, ''), 'x'), 'InvalidParameter');
    await rejectsWithCode(ctx.store.uploadFile('/dev/null', uri(b, 'dir/')), 'InvalidParameter');
  });
}
