import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { parseMasterKey, SecretSealer } from './sealing.js';

test('a sealed secret opens with the same master key and key id only', () => {
  const key = randomBytes(32);
  const sealer = new SecretSealer(key);
  const sealed = sealer.seal('AK1', 'top-secret');
  assert.ok(SecretSealer.isSealed(sealed));
  assert.ok(!sealed.includes('top-secret'));
  assert.notEqual(sealer.seal('AK1', 'top-secret'), sealed, 'a fresh IV every time');
  assert.equal(new SecretSealer(Buffer.from(key)).open('AK1', sealed), 'top-secret');
  assert.throws(() => sealer.open('AK2', sealed), /master key/);
  assert.throws(() => new SecretSealer(randomBytes(32)).open('AK1', sealed), /master key/);
  assert.equal(sealer.open('AK1', 'plain-from-v1'), 'plain-from-v1');
});

test('master keys are 32 bytes given as hex or base64', () => {
  const key = randomBytes(32);
  assert.deepEqual(parseMasterKey(key.toString('hex')), key);
  assert.deepEqual(parseMasterKey(key.toString('base64')), key);
  assert.throws(() => parseMasterKey('abcd'), /32 bytes/);
});
