import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObjectInfo } from '@shoal/core';
import { compareKeys } from '../keys.js';
import { pageKeys } from './local-listing.js';

const infos = (keys: string[]): ObjectInfo[] =>
  keys.map((key) => ({ key, size: 0, lastModifiedMs: 0 })).sort((a, b) => compareKeys(a.key, b.key));

describe('pageKeys', () => {
  const all = infos(['a/1', 'a/2', 'a/b/3', 'a/b/4', 'a/c/5', 'a0', 'b']);

  it('pages by limit with the last key as marker', () => {
    const first = pageKeys(all, 'a/', { limit: 2 });
    assert.deepEqual(
      first.objects.map((o) => o.key),
      ['a/1', 'a/2'],
    );
    assert.equal(first.nextMarker, 'a/2');
    const second = pageKeys(all, 'a/', { limit: 10, marker: 'a/2' });
    assert.deepEqual(
      second.objects.map((o) => o.key),
      ['a/b/3', 'a/b/4', 'a/c/5'],
    );
    assert.equal(second.nextMarker, undefined);
  });

  it('gives no marker when the page ends exactly at the last key', () => {
    assert.equal(pageKeys(all, 'a/', { limit: 5 }).nextMarker, undefined);
  });

  it('skips everything under a common-prefix marker', () => {
    const first = pageKeys(all, 'a/', { limit: 3, delimiter: '/' });
    assert.deepEqual(first.prefixes, ['a/b/']);
    assert.equal(first.nextMarker, 'a/b/');
    const second = pageKeys(all, 'a/', { limit: 3, delimiter: '/', marker: 'a/b/' });
    assert.deepEqual(second.prefixes, ['a/c/']);
    assert.deepEqual(second.objects, []);
    assert.equal(second.nextMarker, undefined);
  });

  it('orders keys by UTF-8 bytes like S3', () => {
    const keys = infos(['\u{1F600}', '\uFF21', 'z']).map((o) => o.key);
    assert.deepEqual(keys, ['z', '\uFF21', '\u{1F600}']);
  });
});
