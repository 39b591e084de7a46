import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizationHeader, canonicalResources, stringToSign, verifySignature } from './signature.js';

// Known-answer vectors of spec §3.5 (computed with the Python SDK's algorithm).
const headers = {
  Accept: 'application/json',
  'Content-Type': 'application/json',
  Date: 'Mon, 02 Jan 2017 03:04:05 GMT',
  'x-acs-access-key-id': 'testAK',
  'x-acs-region-id': 'cn-shenzhen',
  'x-acs-signature-method': 'HMAC-SHA1',
  'x-acs-signature-nonce': '00000000-0000-0000-0000-000000000000',
  'x-acs-signature-version': '1.0',
  'x-acs-version': '2015-11-11',
};

test('string to sign matches the spec example byte for byte', () => {
  assert.equal(
    stringToSign('GET', '/jobs?Marker&MaxItemCount=100', headers),
    'GET\napplication/json\n\napplication/json\nMon, 02 Jan 2017 03:04:05 GMT\nx-acs-access-key-id:testAK\n' +
      'x-acs-region-id:cn-shenzhen\nx-acs-signature-method:HMAC-SHA1\n' +
      'x-acs-signature-nonce:00000000-0000-0000-0000-000000000000\nx-acs-signature-version:1.0\n' +
      'x-acs-version:2015-11-11\n/jobs?Marker&MaxItemCount=100',
  );
});

for (const [method, target, expected] of [
  ['GET', '/jobs?Marker&MaxItemCount=100', 'acs testAK:i2Ex3ZJvYS67FiyNApQDHrquC2c='],
  ['POST', '/jobs', 'acs testAK:xjuzeGff5nlfDLhh1vixWmIC1QI='],
  ['POST', '/jobs/job-1/stop', 'acs testAK:PL3cZn1LhBo7W4JHMCw8Unj0e3A='],
  ['GET', '/jobs/job-1?description', 'acs testAK:vu/mAEs6FlQUS3mup4lrCnRjJy4='],
] as const) {
  test(`known answer: ${method} ${target}`, () => {
    assert.equal(authorizationHeader('testAK', 'testSK', method, target, headers), expected);
    assert.ok(verifySignature('testSK', expected.slice('acs testAK:'.length), method, target, headers));
  });
}

test('decoded canonicalisation accepts the Node SDK form', () => {
  assert.deepEqual(canonicalResources('/jobs?MaxItemCount=10&Marker='), [
    '/jobs?MaxItemCount=10&Marker=',
    '/jobs?Marker&MaxItemCount=10',
  ]);
  assert.deepEqual(canonicalResources('/jobs/a%20b?State=Running'), [
    '/jobs/a%20b?State=Running',
    '/jobs/a b?State=Running',
  ]);
});

test('tampering with path, date, body hash or key is rejected', () => {
  const sig = authorizationHeader('testAK', 'testSK', 'POST', '/jobs/job-1/stop', headers).split(':')[1]!;
  assert.ok(!verifySignature('testSK', sig, 'POST', '/jobs/job-2/stop', headers));
  assert.ok(
    !verifySignature('testSK', sig, 'POST', '/jobs/job-1/stop', {
      ...headers,
      Date: 'Mon, 02 Jan 2017 03:04:06 GMT',
    }),
  );
  assert.ok(
    !verifySignature('testSK', sig, 'POST', '/jobs/job-1/stop', { ...headers, 'Content-MD5': 'abc' }),
  );
  assert.ok(!verifySignature('otherSK', sig, 'POST', '/jobs/job-1/stop', headers));
  assert.ok(!verifySignature('testSK', sig, 'GET', '/jobs/job-1/stop', headers));
});
