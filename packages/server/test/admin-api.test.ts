/** Users and access keys through the admin API; secrets at rest; replay protection. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { signedFetch, startTestShoal, type TestShoal } from './helpers.js';

let shoal: TestShoal;
before(async () => {
  shoal = await startTestShoal({ slots: 0 });
});
after(() => shoal.cleanup());

const as =
  (key: { AccessKeyId: string; AccessKeySecret: string }) =>
  (method: string, target: string, body?: unknown, headers?: Record<string, string>) =>
    signedFetch(shoal.url, key.AccessKeyId, key.AccessKeySecret, method, target, body, headers);

test('users and keys: create, list, delete; the secret is shown once', async () => {
  let res = await shoal.api('POST', '/users', { Name: 'alice' });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.Id, 'alice');
  assert.ok(res.json.OwnerId > 1);
  const ownerId = res.json.OwnerId as number;
  assert.equal((await shoal.api('POST', '/users', { Name: 'alice' })).json.Code, 'StateConflict');
  assert.equal((await shoal.api('POST', '/users', { Name: 'Bad Name' })).json.Code, 'InvalidParameter');

  res = await shoal.api('POST', '/users/alice/keys');
  assert.equal(res.status, 201, res.text);
  const key = res.json as { AccessKeyId: string; AccessKeySecret: string };
  assert.ok(key.AccessKeyId && key.AccessKeySecret);

  res = await shoal.api('GET', '/users/alice/keys');
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.json.Items.map((k: { AccessKeyId: string; State: string }) => [k.AccessKeyId, k.State]),
    [[key.AccessKeyId, 'Active']],
  );
  assert.ok(!res.text.includes(key.AccessKeySecret), 'a listing never shows a secret');

  res = await shoal.api('GET', '/users');
  const names = res.json.Items.map((u: { Name: string }) => u.Name);
  assert.ok(names.includes('admin') && names.includes('alice'));
  assert.equal(res.json.Items.find((u: { Name: string }) => u.Name === 'alice').KeyCount, 1);

  res = await as(key)('GET', '/whoami');
  assert.deepEqual(res.json, { Name: 'alice', OwnerId: ownerId, AccessKeyId: key.AccessKeyId, Admin: false });
  res = await shoal.api('GET', '/whoami');
  assert.deepEqual(res.json, {
    Name: 'admin',
    OwnerId: 1,
    AccessKeyId: shoal.credentials.AccessKeyId,
    Admin: true,
  });

  assert.equal((await shoal.api('DELETE', '/users/admin')).json.Code, 'StateConflict');
  assert.equal((await shoal.api('DELETE', '/users/alice')).status, 200);
  assert.equal((await shoal.api('GET', '/users/alice/keys')).json.Code, 'InvalidResource.NotFound');
  res = await as(key)('GET', '/whoami');
  assert.equal(res.json.Code, 'InvalidAccessKeyId.NotFound', 'the keys of a deleted user stop working');
});

test('non-admins get 403 Forbidden.AdminOnly on every admin route', async () => {
  await shoal.api('POST', '/users', { Name: 'mallory' });
  const key = (await shoal.api('POST', '/users/mallory/keys')).json;
  const call = as(key);
  for (const [method, target] of [
    ['POST', '/users'],
    ['GET', '/users'],
    ['DELETE', '/users/admin'],
    ['POST', '/users/mallory/keys'],
    ['GET', '/users/mallory/keys'],
    ['POST', `/keys/${shoal.credentials.AccessKeyId}/disable`],
    ['POST', `/keys/${key.AccessKeyId}/enable`],
    ['DELETE', `/keys/${shoal.credentials.AccessKeyId}`],
  ] as const) {
    const res = await call(method, target, method === 'POST' ? { Name: 'eve' } : undefined);
    assert.equal(res.status, 403, `${method} ${target}`);
    assert.equal(res.json.Code, 'Forbidden.AdminOnly', `${method} ${target}`);
  }
});

// On another server sharing the database, within the key cache's 5 s: shared-postgres.test.ts.
test('a disabled key is refused at once; enabling restores it', async () => {
  await shoal.api('POST', '/users', { Name: 'dave' });
  const key = (await shoal.api('POST', '/users/dave/keys')).json;
  assert.equal((await as(key)('GET', '/jobs')).status, 200);
  assert.equal((await shoal.api('POST', `/keys/${key.AccessKeyId}/disable`)).status, 201);
  const refused = await as(key)('GET', '/jobs');
  assert.equal(refused.status, 403);
  assert.equal(refused.json.Code, 'InvalidAccessKeyId.NotFound');
  assert.equal((await shoal.api('POST', `/keys/${key.AccessKeyId}/enable`)).status, 201);
  assert.equal((await as(key)('GET', '/jobs')).status, 200);
  assert.equal((await shoal.api('POST', `/keys/${key.AccessKeyId}/disable`)).status, 201);
  assert.equal((await as(key)('GET', '/jobs')).status, 403, 'through the API, at once on this server');
  assert.equal((await shoal.api('GET', '/users/dave/keys')).json.Items[0].State, 'Disabled');
  assert.equal((await shoal.api('DELETE', `/keys/${key.AccessKeyId}`)).status, 200);
  assert.equal((await shoal.api('DELETE', `/keys/${key.AccessKeyId}`)).json.Code, 'InvalidResource.NotFound');
});

test('a signature nonce is accepted once per key', async () => {
  const nonce = `n-${Date.now()}`;
  let res = await shoal.api('GET', '/jobs', undefined, { 'x-acs-signature-nonce': nonce });
  assert.equal(res.status, 200, res.text);
  res = await shoal.api('GET', '/jobs', undefined, { 'x-acs-signature-nonce': nonce });
  assert.equal(res.status, 403);
  assert.equal(res.json.Code, 'SignatureNonceUsed');
  res = await shoal.api('GET', '/jobs', undefined, { 'x-acs-signature-nonce': `${nonce}-2` });
  assert.equal(res.status, 200);
  assert.equal((await shoal.api('GET', '/jobs')).status, 200, 'requests without a nonce are accepted');
});

test('secrets are sealed at rest, plaintext rows of older versions are sealed at start, master.key is 0600', async () => {
  await shoal.api('POST', '/users', { Name: 'erin' });
  const erin = await shoal.store.getUser('erin');
  const key = (await shoal.api('POST', '/users/erin/keys')).json;
  // A row as version 1 wrote it: the secret in plaintext.
  await shoal.store.putAccessKey(
    { id: 'SHOALLEGACYKEY00001', secret: 'legacy-secret-1234', ownerId: erin!.ownerId, disabled: false },
    1,
  );
  const second = await startTestShoal({ slots: 0 }, shoal.dataDir);
  await second.cleanup();
  for (const id of [key.AccessKeyId, shoal.credentials.AccessKeyId, 'SHOALLEGACYKEY00001']) {
    const row = await shoal.store.getAccessKey(id);
    assert.match(row!.secret, /^aesgcm1:/, id);
  }
  const files = ['shoal.db', 'shoal.db-wal'].map((f) => join(shoal.dataDir, f)).filter((f) => existsSync(f));
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const secret of [key.AccessKeySecret, shoal.credentials.AccessKeySecret])
      assert.equal(bytes.indexOf(secret), -1, `${file} holds a secret`);
  }
  assert.equal(
    (await signedFetch(shoal.url, 'SHOALLEGACYKEY00001', 'legacy-secret-1234', 'GET', '/whoami')).json.Name,
    'erin',
  );
  assert.equal(statSync(join(shoal.dataDir, 'master.key')).mode & 0o777, 0o600);
  assert.equal(statSync(join(shoal.dataDir, 'master.key')).size, 32);
});
