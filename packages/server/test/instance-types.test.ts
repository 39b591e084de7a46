/** The instance type catalog: shoal.local plus the operator's file, served and enforced at submit. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { simpleJob, startTestShoal, taskDescription, type TestShoal } from './helpers.js';

let shoal: TestShoal;
const dir = mkdtempSync(join(tmpdir(), 'shoal-types-'));

before(async () => {
  const file = join(dir, 'types.json');
  writeFileSync(
    file,
    JSON.stringify([
      { InstanceType: 'bcs.a2.large', CpuCore: 2, MemorySize: 8 },
      { InstanceType: 'small', CpuCore: 0.5, MemorySize: 0.5, ProcessLimit: 100 },
    ]),
  );
  shoal = await startTestShoal({ slots: 2, instanceTypesFile: file });
});

after(async () => {
  await shoal.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('GET /available lists shoal.local (one slot of this machine) and the configured types', async () => {
  const available = await shoal.api('GET', '/available');
  const types = available.json.AvailableClusterInstanceType;
  assert.deepEqual(
    types.map((t: { InstanceType: string }) => t.InstanceType),
    ['shoal.local', 'bcs.a2.large', 'small'],
  );
  const local = types[0];
  assert.equal(local.Cpu, Math.round((availableParallelism() / 2) * 100) / 100);
  assert.equal(local.MemoryMiB, Math.round(Math.floor(totalmem() / 2) / 2 ** 20));
  assert.equal(local.ProcessLimit, 1024);
  assert.deepEqual(types[2], {
    InstanceType: 'small',
    CpuCore: 1,
    MemorySize: 1,
    Network: { Classic: false, Vpc: true },
    Cpu: 0.5,
    MemoryMiB: 512,
    ProcessLimit: 100,
  });
  const quotas = await shoal.api('GET', '/quotas');
  assert.deepEqual(quotas.json.AvailableClusterInstanceType, ['shoal.local', 'bcs.a2.large', 'small']);
});

test('a task naming an instance type not on offer is refused at submit, naming the field', async () => {
  const job = simpleJob('/bin/true');
  job.DAG.Tasks.task = taskDescription('/bin/true', '', {
    AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'ecs.sn1.medium' },
  });
  const res = await shoal.api('POST', '/jobs', job);
  assert.equal(res.status, 400, res.text);
  assert.equal(res.json.Code, 'InvalidJobDescription');
  assert.match(
    res.json.Message,
    /DAG\.Tasks\.task\.AutoCluster\.InstanceType.*shoal\.local, bcs\.a2\.large, small.*ecs\.sn1\.medium/,
  );
});

test('a configured type runs, with its usage measured', async () => {
  const job = simpleJob('/bin/true');
  job.DAG.Tasks.task = taskDescription('/bin/sh -c "echo typed"', '', {
    AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'small' },
  });
  const res = await shoal.api('POST', '/jobs', job);
  assert.equal(res.status, 201, res.text);
  const done = await shoal.waitForJob(res.json.Id);
  assert.equal(done.State, 'Finished');
  const instance = await shoal.api('GET', `/jobs/${res.json.Id}/tasks/task/instances/0`);
  assert.equal(typeof instance.json.Usage.CpuSeconds, 'number');
});

test('on the default cluster, a type larger than the server’s machine is refused at submit, naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-types-'));
  const file = join(dir, 'types.json');
  writeFileSync(file, JSON.stringify([{ InstanceType: 'test.giant', CpuCore: 4096, MemorySize: 1 }]));
  const s = await startTestShoal({ instanceTypesFile: file, sandbox: 'off' }, join(dir, 'data'));
  try {
    const res = await s.api(
      'POST',
      '/jobs',
      simpleJob('true', { AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'test.giant' } }),
    );
    assert.equal(res.status, 400, res.text);
    assert.match(
      res.json.Message,
      /DAG\.Tasks\.task\.AutoCluster\.InstanceType is not valid: is larger than this server's machine/,
    );
  } finally {
    await s.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
