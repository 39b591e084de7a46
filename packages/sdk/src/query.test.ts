import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildQuery, encodeObjectKey, objectPath, resourcePath } from './query.js';
import { backoffDelayMs, retryAfterMs } from './retry.js';
import { parseApiError } from './errors.js';

test('buildQuery sorts names, encodes values and renders empty values as bare keys', () => {
  assert.equal(buildQuery({ MaxItemCount: 100, Marker: '' }), '?Marker&MaxItemCount=100');
  assert.equal(buildQuery({ State: 'Running', Marker: 'job-1' }), '?Marker=job-1&State=Running');
  assert.equal(buildQuery({ Prefix: 'a b/c&d=e+f' }), '?Prefix=a%20b%2Fc%26d%3De%2Bf');
  assert.equal(buildQuery({ description: '' }), '?description');
  assert.equal(buildQuery({ a: undefined, b: null }), '');
  assert.equal(buildQuery(), '');
  assert.equal(buildQuery({ b: 1, B: 2, a: true }), '?B=2&a=true&b=1');
});

test('resourcePath encodes every segment', () => {
  assert.equal(
    resourcePath('jobs', 'job-1', 'tasks', 'a/b c', 'instances', 3),
    '/jobs/job-1/tasks/a%2Fb%20c/instances/3',
  );
});

test('object keys are encoded per segment with their slashes kept', () => {
  assert.equal(encodeObjectKey('a b/c%d/e?f#'), 'a%20b/c%25d/e%3Ff%23');
  assert.equal(objectPath('oss://shoal/cli/u1/worker.tar.gz'), '/objects/shoal/cli/u1/worker.tar.gz');
  assert.equal(objectPath('s3://my-bucket/x/y z'), '/objects/my-bucket/x/y%20z');
  assert.throws(() => objectPath('oss://shoal/'), /names a bucket/);
  assert.throws(() => objectPath('http://x/y'), TypeError);
});

test('backoff doubles from the base, is capped and keeps at least half the delay', () => {
  assert.equal(
    backoffDelayMs(0, 200, 5000, () => 0),
    100,
  );
  assert.equal(
    backoffDelayMs(0, 200, 5000, () => 1),
    200,
  );
  assert.equal(
    backoffDelayMs(3, 200, 5000, () => 1),
    1600,
  );
  assert.equal(
    backoffDelayMs(20, 200, 5000, () => 1),
    5000,
  );
  assert.equal(retryAfterMs('2'), 2000);
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT'), undefined);
  assert.equal(retryAfterMs(null), undefined);
});

test('parseApiError reads the wire error, falling back to the header request id', () => {
  const err = parseApiError(409, 'hdr-1', '{"Code":"StateConflict","Message":"is Running","HostId":"h"}');
  assert.equal(err.code, 'StateConflict');
  assert.equal(err.message, 'is Running');
  assert.equal(err.status, 409);
  assert.equal(err.requestId, 'hdr-1');
  assert.equal(err.hostId, 'h');
  assert.equal(
    parseApiError(400, 'hdr', '{"Code":"X","Message":"m","RequestId":"body-1"}').requestId,
    'body-1',
  );
  assert.equal(parseApiError(400, null, '{"ErrorCode":"Y","ErrorMessage":"n"}').code, 'Y');
});

test('parseApiError reports bodies that are not API errors as InvalidResponse', () => {
  const html = parseApiError(502, null, '<html>Bad Gateway</html>');
  assert.equal(html.code, 'InvalidResponse');
  assert.equal(html.status, 502);
  assert.match(html.message, /Bad Gateway/);
  assert.equal(parseApiError(500, null, '{"no":"code"}').code, 'InvalidResponse');
  assert.equal(parseApiError(500, null, '[1,2]').code, 'InvalidResponse');
  assert.equal(parseApiError(500, null, '').code, 'InvalidResponse');
  assert.equal(parseApiError(404, 'r', '').code, 'InvalidResource.NotFound');
});
