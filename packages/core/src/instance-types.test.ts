import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildCatalog, limitsOf, parseInstanceTypes, slotShare } from './instance-types.js';

test('slotShare gives one slot its share of the machine', () => {
  assert.deepEqual(slotShare(2, 24 * 1024 ** 3, 2), {
    name: 'shoal.local',
    cpuCores: 1,
    memoryBytes: 12 * 1024 ** 3,
    processes: 1024,
  });
  assert.equal(slotShare(2, 1024, 8).cpuCores, 0.25);
});

test('a catalog file is read with its units, and a type of the same name replaces shoal.local', () => {
  const types = parseInstanceTypes(
    '[{"InstanceType":"shoal.local","CpuCore":1.5,"MemorySize":2,"ProcessLimit":50},{"InstanceType":"big","CpuCore":8,"MemorySize":32}]',
    'types.json',
  );
  assert.deepEqual(limitsOf(types[0]!), {
    instanceType: 'shoal.local',
    cpuMillis: 1500,
    memoryBytes: 2 * 1024 ** 3,
    processes: 50,
  });
  const catalog = buildCatalog(slotShare(2, 1024 ** 3, 2), types);
  assert.deepEqual(
    catalog.map((t) => [t.name, t.cpuCores]),
    [
      ['shoal.local', 1.5],
      ['big', 8],
    ],
  );
});

test('catalog errors name the entry, the field and the value', () => {
  const cases: Array<[string, RegExp]> = [
    ['{}', /types\.json is not valid: must be a JSON array/],
    ['not json', /is not JSON/],
    ['[{"InstanceType":"a b","CpuCore":1,"MemorySize":1}]', /types\.json\[0\]\.InstanceType .*"a b"/],
    [
      '[{"InstanceType":"a","CpuCore":0,"MemorySize":1}]',
      /types\.json\[0\]\.CpuCore .*must be a number in \(0, 4096\], got 0/,
    ],
    ['[{"InstanceType":"a","CpuCore":1}]', /types\.json\[0\]\.MemorySize/],
    [
      '[{"InstanceType":"a","CpuCore":1,"MemorySize":1,"ProcessLimit":1.5}]',
      /ProcessLimit .*must be an integer/,
    ],
    [
      '[{"InstanceType":"a","CpuCore":1,"MemorySize":1},{"InstanceType":"a","CpuCore":1,"MemorySize":1}]',
      /\[1\]\.InstanceType .*listed twice/,
    ],
  ];
  for (const [json, message] of cases)
    assert.throws(() => parseInstanceTypes(json, 'types.json'), message, json);
});
