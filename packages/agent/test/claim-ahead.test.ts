import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClaimAhead } from '../src/worker/claim-ahead.js';

const options = { horizonMs: 100, maxAttempts: 32 };

test('claims nothing ahead before an attempt ended, then what the slots run within the horizon', () => {
  const ahead = new ClaimAhead(2, options);
  assert.equal(ahead.attempts(0), 0);
  ahead.ended(20);
  // Two slots of 20 ms attempts run 10 in 100 ms.
  assert.equal(ahead.attempts(0), 10);
  for (let i = 0; i < 200; i++) ahead.ended(1);
  assert.equal(ahead.attempts(0), 32, 'capped at maxAttempts');
});

test('claims nothing ahead for long attempts, nor while a running one has outlived the horizon', () => {
  const long = new ClaimAhead(2, options);
  long.ended(250);
  assert.equal(long.attempts(0), 0);
  const short = new ClaimAhead(2, options);
  short.ended(5);
  assert.equal(short.attempts(99), 32);
  assert.equal(short.attempts(101), 0);
});

test('follows a change in attempt length within a few tens of attempts', () => {
  const ahead = new ClaimAhead(1, options);
  for (let i = 0; i < 50; i++) ahead.ended(2);
  assert.equal(ahead.attempts(0), 32);
  for (let i = 0; i < 60; i++) ahead.ended(400);
  assert.equal(ahead.attempts(0), 0);
});
