/**
 * The SDK against a real server: its signatures verify, and a request changed on the way (body, path or
 * date), or signed with a wrong key, is refused.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ShoalApiError, ShoalClient } from '@shoal/sdk';
import { simpleJob, startTestShoal, type TestShoal } from './helpers.js';

let shoal: TestShoal;
before(async () => {
  shoal = await startTestShoal({ slots: 0 });
});
after(() => shoal.cleanup());

/** A client whose requests pass through `tamper` after signing, as a man in the middle would see them. */
function client(
  tamper?: (url: URL, init: RequestInit) => void,
  secret = shoal.credentials.AccessKeySecret,
): ShoalClient {
  return new ShoalClient({
    endpoint: shoal.url,
    accessKeyId: shoal.credentials.AccessKeyId,
    accessKeySecret: secret,
    retries: 0,
    fetch: (input, init) => {
      const url = new URL(String(input));
      const copy: RequestInit = { ...init, headers: { ...(init?.headers as Record<string, string>) } };
      tamper?.(url, copy);
      return fetch(url, copy);
    },
  });
}

async function refused(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ShoalApiError, String(err));
    assert.equal(err.code, code);
    return true;
  });
}

test('SDK requests verify; the same requests altered in transit do not', async () => {
  const { Id } = await client().createJob(simpleJob('/bin/true'));
  assert.match(Id, /^job-/);
  assert.equal((await client().getJob(Id)).Id, Id);

  const otherBody = new TextEncoder().encode(JSON.stringify(simpleJob('/bin/rm -rf /tmp/x')));
  await refused(
    client((_url, init) => (init.body = otherBody)).createJob(simpleJob('/bin/true')),
    'InvalidContentMD5',
  );
  await refused(
    client((url) => (url.pathname = '/jobs/job-00000000000000000000000000000000')).getJob(Id),
    'SignatureDoesNotMatch',
  );
  await refused(
    client(
      (_url, init) =>
        ((init.headers as Record<string, string>).Date = new Date(Date.now() - 60_000).toUTCString()),
    ).getJob(Id),
    'SignatureDoesNotMatch',
  );
  await refused(client(undefined, 'not-the-secret').getJob(Id), 'SignatureDoesNotMatch');
});

test('object uploads carry a verified Content-MD5', async () => {
  await client().putObject('oss://integrity/a.txt', 'payload');
  assert.equal(new TextDecoder().decode(await client().getObject('oss://integrity/a.txt')), 'payload');
  await refused(
    client((_url, init) => (init.body = new TextEncoder().encode('PAYLOAD'))).putObject(
      'oss://integrity/a.txt',
      'payload',
    ),
    'InvalidContentMD5',
  );
  assert.equal(new TextDecoder().decode(await client().getObject('oss://integrity/a.txt')), 'payload');
});
