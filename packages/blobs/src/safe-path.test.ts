import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resolveUnder } from './safe-path.js';

describe('resolveUnder', () => {
  const base = path.resolve('/tmp/shoal-base');

  it('maps nested keys under the directory', () => {
    assert.equal(resolveUnder(base, 'a/b.txt'), path.join(base, 'a', 'b.txt'));
    assert.equal(resolveUnder(base, 'a//b.txt'), path.join(base, 'a', 'b.txt'));
    assert.equal(resolveUnder(base, '..hidden/x'), path.join(base, '..hidden', 'x'));
  });

  it('refuses keys that leave the directory or name it', () => {
    for (const key of ['', '/etc/passwd', '..', '../x', 'a/../../x', 'a/../b', '.', './', 'a\0b']) {
      assert.throws(
        () => resolveUnder(base, key),
        (err: unknown) => (err as { code?: string }).code === 'InvalidParameter',
        `key ${JSON.stringify(key)} must be refused`,
      );
    }
  });
});
