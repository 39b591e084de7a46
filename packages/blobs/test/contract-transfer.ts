import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { ContractContext, rejectsWithCode, uri } from './contract-context.js';

const FILES: Record<string, string> = {
  'a.txt': 'alpha',
  'nested/b.txt': 'beta',
  'nested/deeper/c.bin': '\u0000\u0001\u0002',
  'nested/deeper/empty': '',
  'with space/ü.txt': 'unicode',
};

async function writeTree(root: string): Promise<void> {
  for (const [rel, body] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), body);
  }
}

/** Every regular file under `root`, as relative path -> content. */
async function readTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(root, full).split(path.sep).join('/')] = await readFile(full, 'utf8');
  }
  return out;
}

/** Directory transfers, bulk deletes, and the refusal of keys that would escape a directory. */
export function transferCases(ctx: ContractContext): void {
  it('round-trips a nested directory through uploadDirectory and downloadPrefix', async () => {
    const b = ctx.bucket();
    const src = await ctx.dir('upload');
    await writeTree(src);
    await symlink('/etc/hostname', path.join(src, 'link-to-outside'));
    assert.equal(await ctx.store.uploadDirectory(src, uri(b, 'out/run-1')), Object.keys(FILES).length);
    const listed = await ctx.store.listObjects(uri(b, 'out/run-1/'));
    assert.deepEqual(
      listed.objects.map((o) => o.key),
      Object.keys(FILES)
        .map((rel) => `out/run-1/${rel}`)
        .sort(),
    );
    const dest = await ctx.dir('download');
    assert.equal(await ctx.store.downloadPrefix(uri(b, 'out/run-1/'), dest), Object.keys(FILES).length);
    assert.deepEqual(await readTree(dest), FILES);
    // Without the trailing slash the prefix still means the directory, not `out/run-1*`.
    await ctx.store.putObject(uri(b, 'out/run-10/other.txt'), 'not mine');
    const dest2 = await ctx.dir('download-noslash');
    assert.equal(await ctx.store.downloadPrefix(uri(b, 'out/run-1'), dest2), Object.keys(FILES).length);
    assert.deepEqual(await readTree(dest2), FILES);
  });

  it('downloads nothing from an empty prefix', async () => {
    const dest = await ctx.dir('download-empty');
    assert.equal(await ctx.store.downloadPrefix(uri(ctx.bucket(), 'nothing/'), dest), 0);
    assert.deepEqual(await readdir(dest), []);
  });

  it('deletes everything under a prefix and nothing beside it', async () => {
    const b = ctx.bucket();
    for (const key of ['logs/a', 'logs/b/c', 'logs/b/d', 'logs-old/e', 'logsx', 'other/f']) {
      await ctx.store.putObject(uri(b, key), key);
    }
    assert.equal(await ctx.store.deletePrefix(uri(b, 'logs')), 3);
    const left = await ctx.store.listObjects(uri(b, ''));
    assert.deepEqual(
      left.objects.map((o) => o.key),
      ['logs-old/e', 'logsx', 'other/f'],
    );
    assert.equal(await ctx.store.deletePrefix(uri(b, 'logs/')), 0);
    assert.equal(await ctx.store.deletePrefix(uri(ctx.bucket(), 'x/')), 0);
    // A bucket-wide delete empties the bucket.
    assert.equal(await ctx.store.deletePrefix(uri(b, '')), 3);
    assert.deepEqual((await ctx.store.listObjects(uri(b, ''))).objects, []);
  });

  it('skips directory-marker keys and refuses keys that escape the target directory', async (t) => {
    const plant = ctx.fixture.plantObject;
    if (plant === undefined) {
      t.skip('this backend cannot hold keys the store refuses');
      return;
    }
    const b = ctx.bucket();
    await ctx.store.putObject(uri(b, 'p/ok.txt'), 'fine');
    await plant(b, 'p/dir/', '');
    const safe = await ctx.dir('markers');
    assert.equal(await ctx.store.downloadPrefix(uri(b, 'p/'), safe), 1);
    assert.deepEqual(await readTree(safe), { 'ok.txt': 'fine' });

    await plant(b, 'p/../../escaped.txt', 'pwned');
    const listed = await ctx.store.listObjects(uri(b, 'p/'));
    assert.ok(
      listed.objects.some((o) => o.key === 'p/../../escaped.txt'),
      `backend did not keep the hostile key: ${listed.objects.map((o) => o.key).join(', ')}`,
    );
    const parent = await ctx.dir('escape');
    const dest = path.join(parent, 'a', 'b');
    await mkdir(dest, { recursive: true });
    await rejectsWithCode(ctx.store.downloadPrefix(uri(b, 'p/'), dest), 'InvalidParameter');
    await assert.rejects(stat(path.join(parent, 'escaped.txt')), { code: 'ENOENT' });
    // Keys are all checked before any download starts.
    assert.deepEqual(await readdir(dest), []);
  });
}
