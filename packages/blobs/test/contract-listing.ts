import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { BlobStore, ListObjectsOptions, ObjectUri } from '@shoal/core';
import { ContractContext, rejectsWithCode, uri } from './contract-context.js';

/** Every page of a listing, concatenated, with the number of pages it took. */
async function listEverything(
  store: BlobStore,
  prefix: ObjectUri,
  options: Omit<ListObjectsOptions, 'marker'> = {},
): Promise<{ keys: string[]; prefixes: string[]; pages: number }> {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await store.listObjects(prefix, { ...options, ...(marker === undefined ? {} : { marker }) });
    pages += 1;
    assert.ok(pages < 100, 'listing does not terminate');
    assert.ok(page.objects.length + page.prefixes.length <= (options.limit ?? 1000));
    keys.push(...page.objects.map((o) => o.key));
    prefixes.push(...page.prefixes);
    marker = page.nextMarker;
  } while (marker !== undefined);
  return { keys, prefixes, pages };
}

const TREE = ['d/a.txt', 'd/sub/b.txt', 'd/sub/c.txt', 'd/z/y.txt', 'd-x.txt', 'dx.txt', 'top.txt'];

async function putTree(ctx: ContractContext): Promise<string> {
  const b = ctx.bucket();
  for (const key of TREE) await ctx.store.putObject(uri(b, key), `body of ${key}`);
  return b;
}

/** Listing cases: order, delimiter, pagination, prefix semantics. */
export function listingCases(ctx: ContractContext): void {
  it('lists recursively in key order without a delimiter', async () => {
    const b = await putTree(ctx);
    const page = await ctx.store.listObjects(uri(b, ''));
    assert.deepEqual(
      page.objects.map((o) => o.key),
      [...TREE].sort(),
    );
    assert.deepEqual(page.prefixes, []);
    assert.equal(page.nextMarker, undefined);
    const a = page.objects.find((o) => o.key === 'd/a.txt');
    assert.equal(a?.size, 'body of d/a.txt'.length);
  });

  it('groups keys into common prefixes with a delimiter', async () => {
    const b = await putTree(ctx);
    const root = await ctx.store.listObjects(uri(b, ''), { delimiter: '/' });
    assert.deepEqual(
      root.objects.map((o) => o.key),
      ['d-x.txt', 'dx.txt', 'top.txt'],
    );
    assert.deepEqual(root.prefixes, ['d/']);
    const d = await ctx.store.listObjects(uri(b, 'd/'), { delimiter: '/' });
    assert.deepEqual(
      d.objects.map((o) => o.key),
      ['d/a.txt'],
    );
    assert.deepEqual(d.prefixes, ['d/sub/', 'd/z/']);
  });

  it('lists only under dir/ for oss://b/dir/, and as a plain string prefix otherwise', async () => {
    const b = await putTree(ctx);
    const underDir = await ctx.store.listObjects(uri(b, 'd/'));
    assert.deepEqual(
      underDir.objects.map((o) => o.key),
      ['d/a.txt', 'd/sub/b.txt', 'd/sub/c.txt', 'd/z/y.txt'],
    );
    const plain = await ctx.store.listObjects(uri(b, 'd'));
    assert.deepEqual(
      plain.objects.map((o) => o.key),
      ['d-x.txt', 'd/a.txt', 'd/sub/b.txt', 'd/sub/c.txt', 'd/z/y.txt', 'dx.txt'],
    );
    const partial = await ctx.store.listObjects(uri(b, 'd/su'));
    assert.deepEqual(
      partial.objects.map((o) => o.key),
      ['d/sub/b.txt', 'd/sub/c.txt'],
    );
    assert.deepEqual((await ctx.store.listObjects(uri(b, 'nothing/'))).objects, []);
    assert.deepEqual((await ctx.store.listObjects(uri(ctx.bucket(), ''))).objects, []);
  });

  it('paginates 25 objects in pages of 10', async () => {
    const b = ctx.bucket();
    const keys = Array.from({ length: 25 }, (_, i) => `many/k${String(i).padStart(2, '0')}`);
    await Promise.all(keys.map((key) => ctx.store.putObject(uri(b, key), key)));
    const first = await ctx.store.listObjects(uri(b, 'many/'), { limit: 10 });
    assert.equal(first.objects.length, 10);
    assert.notEqual(first.nextMarker, undefined);
    const all = await listEverything(ctx.store, uri(b, 'many/'), { limit: 10 });
    assert.deepEqual(all.keys, keys);
    assert.equal(all.pages, 3);
  });

  it('paginates across objects and common prefixes together', async () => {
    const b = await putTree(ctx);
    const all = await listEverything(ctx.store, uri(b, ''), { delimiter: '/', limit: 1 });
    assert.deepEqual(all.keys, ['d-x.txt', 'dx.txt', 'top.txt']);
    assert.deepEqual(all.prefixes, ['d/']);
    assert.equal(all.pages, 4);
    const sub = await listEverything(ctx.store, uri(b, 'd/'), { delimiter: '/', limit: 2 });
    assert.deepEqual(sub.keys, ['d/a.txt']);
    assert.deepEqual(sub.prefixes, ['d/sub/', 'd/z/']);
  });

  it('refuses page sizes outside 1..1000', async () => {
    const b = ctx.bucket();
    await rejectsWithCode(ctx.store.listObjects(uri(b, ''), { limit: 0 }), 'InvalidParameter');
    await rejectsWithCode(ctx.store.listObjects(uri(b, ''), { limit: 1001 }), 'InvalidParameter');
  });
}
