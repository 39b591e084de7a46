import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { md5 } from './md5.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

test('RFC 1321 test suite', () => {
  const vectors: [string, string][] = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    [
      '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
      '57edf4a22be3c955ac49da2e2107b67a',
    ],
  ];
  for (const [input, digest] of vectors)
    assert.equal(hex(md5(new TextEncoder().encode(input))), digest, input);
});

test('agrees with node:crypto on random inputs of every length around the block edges', () => {
  for (let length = 0; length < 300; length++) {
    const data = randomBytes(length);
    assert.equal(hex(md5(data)), createHash('md5').update(data).digest('hex'), `length ${length}`);
  }
  const big = randomBytes(1_000_003);
  assert.equal(hex(md5(big)), createHash('md5').update(big).digest('hex'));
});
