/**
 * The SDK's WebCrypto signer against the spec's known answers (§3.5) and against core's verifier,
 * the code the Shoal server runs; and its browser-safe StringToSign against core's for many requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { stringToSign, verifySignature } from '@shoal/core';
import { buildStringToSign, HmacSha1, signedHeaders } from '../src/index.js';

const KAT_BASE = {
  contentType: 'application/json',
  accessKeyId: 'testAK',
  accessKeySecret: 'testSK',
  dateMs: Date.UTC(2017, 0, 2, 3, 4, 5),
  nonce: '00000000-0000-0000-0000-000000000000',
  extraHeaders: { 'x-acs-access-key-id': 'testAK', 'x-acs-region-id': 'cn-shenzhen' },
};

test('known answers of spec §3.5', async () => {
  const cases: [string, string, string][] = [
    ['GET', '/jobs?Marker&MaxItemCount=100', 'acs testAK:i2Ex3ZJvYS67FiyNApQDHrquC2c='],
    ['POST', '/jobs', 'acs testAK:xjuzeGff5nlfDLhh1vixWmIC1QI='],
    ['POST', '/jobs/job-1/stop', 'acs testAK:PL3cZn1LhBo7W4JHMCw8Unj0e3A='],
    ['GET', '/jobs/job-1?description', 'acs testAK:vu/mAEs6FlQUS3mup4lrCnRjJy4='],
  ];
  for (const [method, rawTarget, expected] of cases) {
    const headers = await signedHeaders({ ...KAT_BASE, method, rawTarget });
    assert.equal(headers['Authorization'], expected, `${method} ${rawTarget}`);
  }
  const first = await signedHeaders({
    ...KAT_BASE,
    method: 'GET',
    rawTarget: '/jobs?Marker&MaxItemCount=100',
  });
  assert.equal(
    buildStringToSign('GET', '/jobs?Marker&MaxItemCount=100', first),
    'GET\napplication/json\n\napplication/json\nMon, 02 Jan 2017 03:04:05 GMT\nx-acs-access-key-id:testAK\n' +
      'x-acs-region-id:cn-shenzhen\nx-acs-signature-method:HMAC-SHA1\nx-acs-signature-nonce:' +
      '00000000-0000-0000-0000-000000000000\nx-acs-signature-version:1.0\nx-acs-version:2015-11-11\n' +
      '/jobs?Marker&MaxItemCount=100',
  );
});

test('with dateHeader x-acs-date (browsers), the date is signed from x-acs-date and core verifies it', async () => {
  const headers = await signedHeaders({
    method: 'GET',
    rawTarget: '/jobs',
    contentType: 'application/json',
    accessKeyId: 'ak-1',
    accessKeySecret: 'sk-1',
    dateMs: Date.now(),
    nonce: crypto.randomUUID(),
    dateHeader: 'x-acs-date',
  });
  assert.equal(headers['Date'], undefined);
  assert.ok(headers['x-acs-date']);
  const signature = headers['Authorization']!.split(':')[1]!;
  assert.ok(verifySignature('sk-1', signature, 'GET', '/jobs', headers));
  const older = { ...headers, 'x-acs-date': new Date(Date.now() - 60_000).toUTCString() };
  assert.ok(!verifySignature('sk-1', signature, 'GET', '/jobs', older), 'other date');
});

test('HMAC-SHA1 matches RFC 2202 and the classic example', async () => {
  const hmac = new HmacSha1();
  assert.equal(
    await hmac.sign('key', 'The quick brown fox jumps over the lazy dog'),
    '3nybhbi3iqa8ino29wqQcBydtNk=',
  );
  // RFC 2202 case 2: key "Jefe", data "what do ya want for nothing?" -> effcdf6ae5eb2fa2d27416d5f184df9c259a7c79
  assert.equal(await hmac.sign('Jefe', 'what do ya want for nothing?'), '7/zfauXrL6LSdBbV8YTfnCWafHk=');
  // Non-ASCII keys and data are UTF-8 encoded, as Node's own HMAC (an independent implementation) does.
  for (const [key, data] of [
    ['clé', 'ünïcode'],
    ['秘密', '作业描述'],
  ] as const) {
    assert.equal(await hmac.sign(key, data), createHmac('sha1', key).update(data, 'utf8').digest('base64'));
  }
});

test('core verifies SDK signatures: GET with query, POST with body, object PUT; tampering fails', async () => {
  const requests = [
    {
      method: 'GET',
      rawTarget: '/jobs?Marker=abc&MaxItemCount=10&State=Running',
      contentType: 'application/json',
    },
    { method: 'POST', rawTarget: '/jobs?IdempotentToken=run-1', contentType: 'application/json' },
    { method: 'PUT', rawTarget: '/objects/shoal/a%20b/c%2Bd.txt', contentType: 'application/octet-stream' },
  ];
  for (const req of requests) {
    const headers = await signedHeaders({
      ...req,
      accessKeyId: 'ak-1',
      accessKeySecret: 'sk-1',
      dateMs: Date.now(),
      nonce: crypto.randomUUID(),
    });
    const signature = headers['Authorization']!.split(':')[1]!;
    assert.ok(verifySignature('sk-1', signature, req.method, req.rawTarget, headers), req.rawTarget);
    assert.ok(!verifySignature('sk-2', signature, req.method, req.rawTarget, headers), 'other key');
    assert.ok(!verifySignature('sk-1', signature, req.method, `${req.rawTarget}x`, headers), 'other path');
    assert.ok(!verifySignature('sk-1', signature, 'DELETE', req.rawTarget, headers), 'other verb');
    const older = { ...headers, Date: new Date(Date.now() - 60_000).toUTCString() };
    assert.ok(!verifySignature('sk-1', signature, req.method, req.rawTarget, older), 'other date');
  }
});

test('the SDK builds the same StringToSign as core for many requests', () => {
  const methods = ['GET', 'post', 'PUT', 'DELETE', 'HEAD'];
  const targets = [
    '/jobs',
    '/jobs?Marker&MaxItemCount=100',
    '/objects/b/k%20x?Prefix=a%2F',
    '/',
    '/users/alice/keys',
  ];
  let seed = 7;
  const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 500; i++) {
    const headers: Record<string, string | string[]> = {
      Date: new Date(1_500_000_000_000 + rand(1e9) * 1000).toUTCString(),
      Accept: rand(2) ? 'application/json' : '*/*',
      'Content-Type': ['application/json', 'application/octet-stream', ''][rand(3)]!,
      'x-acs-version': '2015-11-11',
      'X-Acs-Signature-Nonce': `n-${rand(1e6)}`,
    };
    if (rand(2)) headers['x-acs-date'] = new Date(rand(1e12)).toISOString();
    if (rand(2)) headers['Content-MD5'] = ` md5-${rand(100)} `;
    if (rand(2)) headers['x-acs-region-id'] = ['cn-a', 'cn-b'];
    if (rand(2)) headers['x-other'] = 'ignored';
    const method = methods[rand(methods.length)]!;
    const target = targets[rand(targets.length)]!;
    assert.equal(buildStringToSign(method, target, headers), stringToSign(method, target, headers));
  }
});
