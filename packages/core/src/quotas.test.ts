import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultQuotas, parseQuotaConfig, quotasOf } from './quotas.js';

const defaults = defaultQuotas(1000);

test('a quota file: defaults overridden by the file, users overriding field by field', () => {
  const config = parseQuotaConfig(
    JSON.stringify({ Default: { Jobs: 5 }, Users: { alice: { InstancesPerJob: 20 } } }),
    'q.json',
    defaults,
  );
  assert.deepEqual(quotasOf(config, 'bob'), { ...defaults, jobs: 5 });
  assert.deepEqual(quotasOf(config, 'alice'), { ...defaults, jobs: 5, instancesPerJob: 20 });
  assert.deepEqual(parseQuotaConfig('{}', 'q.json', defaults).defaults, defaults);
});

test('a bad quota file is refused naming the file, entry and field', () => {
  const bad = (json: string, message: RegExp) =>
    assert.throws(() => parseQuotaConfig(json, 'q.json', defaults), message);
  bad('nope', /q\.json is not valid: is not JSON/);
  bad(
    '{"Users": {"alice": {"Jobz": 1}}}',
    /q\.json\.Users\.alice\.Jobz is not valid: is not one of Clusters/,
  );
  bad('{"Default": {"Jobs": -1}}', /q\.json\.Default\.Jobs is not valid: must be a whole number/);
  bad('{"Default": {"Jobs": 1.5}}', /q\.json\.Default\.Jobs/);
  bad('{"Limits": {}}', /q\.json\.Limits is not valid: is not one of Default, Users/);
});
