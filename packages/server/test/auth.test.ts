/** acs signatures: what is accepted and what is refused, with status and Code. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { authorizationHeader, httpDate } from '@shoal/core';
import { signedFetch, startTestShoal, type TestShoal } from './helpers.js';

let shoal: TestShoal;
before(async () => {
  shoal = await startTestShoal({ slots: 0 });
});
after(() => shoal.cleanup());

const ak = () => shoal.credentials.AccessKeyId;
const sk = () => shoal.credentials.AccessKeySecret;

test('unsigned requests get 400 MissingAuthorization with the request id', async () => {
  const res = await fetch(`${shoal.url}/jobs`);
  const body = (await res.json()) as Record<string, string>;
  assert.equal(res.status, 400);
  assert.equal(body.Code, 'MissingAuthorization');
  assert.equal(body.RequestId, res.headers.get('x-acs-request-id'));
});

test('a wrong secret, an unknown key, a malformed header are refused', async () => {
  let res = await signedFetch(shoal.url, ak(), 'wrong-secret', 'GET', '/jobs');
  assert.equal(res.status, 400);
  assert.equal(res.json.Code, 'SignatureDoesNotMatch');
  assert.match(res.json.Message, /String to sign/);
  assert.ok(!res.text.includes(sk()), 'the secret never appears in a response');
  res = await signedFetch(shoal.url, 'AKNOBODY', sk(), 'GET', '/jobs');
  assert.equal(res.status, 403);
  assert.equal(res.json.Code, 'InvalidAccessKeyId.NotFound');
  const raw = await fetch(`${shoal.url}/jobs`, {
    headers: { Authorization: 'Bearer x', Date: httpDate(Date.now()) },
  });
  assert.equal(raw.status, 400);
  assert.equal(((await raw.json()) as Record<string, string>).Code, 'InvalidAuthorization');
});

test('a tampered path or date does not verify', async () => {
  const headers: Record<string, string> = { Date: httpDate(Date.now()), Accept: 'application/json' };
  headers.Authorization = authorizationHeader(ak(), sk(), 'GET', '/jobs?MaxItemCount=1', headers);
  let res = await fetch(`${shoal.url}/jobs?MaxItemCount=2`, { headers });
  assert.equal(res.status, 400);
  res = await fetch(`${shoal.url}/jobs?MaxItemCount=1`, {
    headers: { ...headers, Date: httpDate(Date.now() - 2000) },
  });
  assert.equal(res.status, 400);
  res = await fetch(`${shoal.url}/jobs?MaxItemCount=1`, { headers });
  assert.equal(res.status, 200);
});

test('dates more than 15 minutes off are refused', async () => {
  const res = await signedFetch(shoal.url, ak(), sk(), 'GET', '/jobs', undefined, {
    Date: httpDate(Date.now() - 16 * 60 * 1000),
  });
  assert.equal(res.status, 403);
  assert.equal(res.json.Code, 'RequestTimeTooSkewed');
  const noDate = await fetch(`${shoal.url}/jobs`, { headers: { Authorization: `acs ${ak()}:abc` } });
  assert.equal(((await noDate.json()) as Record<string, string>).Code, 'MissingDate');
});

test('the Node SDK form (x-acs-date, decoded sorted query, text/plain) verifies', async () => {
  const headers: Record<string, string> = {
    'x-acs-date': httpDate(Date.now()),
    'x-acs-version': '2015-11-11',
    Accept: 'application/json',
  };
  headers.Authorization = authorizationHeader(ak(), sk(), 'GET', '/jobs?Marker&MaxItemCount=10', headers);
  const res = await fetch(`${shoal.url}/jobs?MaxItemCount=10&Marker=`, { headers });
  assert.equal(res.status, 200, await res.text());
});

test('a body that does not match its Content-MD5 is refused', async () => {
  const body = JSON.stringify({ Priority: 3 });
  const res = await signedFetch(shoal.url, ak(), sk(), 'POST', '/jobs', body, {
    'Content-MD5': createHash('md5').update('something else').digest('base64'),
  });
  assert.equal(res.status, 400);
  assert.equal(res.json.Code, 'InvalidContentMD5');
});
