/**
 * Mounts (seed 002): oss:// read-only, and host directories (nas://, file://) only where the server's
 * operator allows them (--allow-mount), in each kind of image.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  startTestDocker,
  testDockerArchive,
  testDockerUnavailable,
  testImagesUnavailable,
  testRootfsArchive,
  type TestDocker,
} from '@shoal/agent/testing';
import { simpleJob, startTestShoal, type Json, type TestShoal } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-mounts-'));
const ref = join(dir, 'ref');
const scratch = join(dir, 'scratch');
const outside = join(dir, 'outside');
const noImages = testImagesUnavailable();
const noDocker = noImages ?? testDockerUnavailable();
let shoal: TestShoal;
let docker: TestDocker | undefined;
let rootfsImage = '';

before(async () => {
  mkdirSync(ref, { recursive: true });
  mkdirSync(scratch, { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(ref, 'genome.fa'), '>chr1\nACGT\n');
  writeFileSync(join(outside, 'secret.txt'), 'not for tasks\n');
  symlinkSync(outside, join(ref, 'escape'));
  // Sandboxes write as uids of their own: the operator makes a writable mount writable for them.
  chmodSync(scratch, 0o1777);
  chmodSync(dir, 0o711);
  if (!noDocker) docker = await startTestDocker();
  shoal = await startTestShoal({
    slots: 2,
    allowMounts: [`file://${ref}`, `nas://fs-1.example.com:/share=${scratch}:rw`],
    ...(docker ? { dockerHost: docker.host, dockerNetwork: 'host' } : {}),
  });
  if (!noImages) {
    assert.equal(
      (await shoal.api('PUT', '/objects/mnt-images/rootfs.tar.gz', readFileSync(await testRootfsArchive())))
        .status,
      201,
    );
    rootfsImage = (
      await shoal.api('POST', '/images', { Name: 'rootfs', EcsImageId: 'oss://mnt-images/rootfs.tar.gz' })
    ).json.Id;
  }
  if (docker) {
    const archive = await testDockerArchive(docker, 'shoal-test/mounts:1');
    assert.equal(
      (await shoal.api('PUT', '/objects/mnt-images/mounts.tar', readFileSync(archive))).status,
      201,
    );
  }
});

after(async () => {
  await shoal?.cleanup();
  await docker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function submit(script: string, mounts: unknown[], extra: Record<string, unknown> = {}) {
  return shoal.api(
    'POST',
    '/jobs',
    simpleJob(`/bin/sh -c '${script}'`, { Mounts: { Entries: mounts }, ...extra }),
  );
}

async function run(script: string, mounts: unknown[], extra: Record<string, unknown> = {}) {
  const created = await submit(script, mounts, extra);
  assert.equal(created.status, 201, created.text);
  const job: Json = await shoal.waitForJob(created.json.Id, undefined, 120_000);
  const instance = (await shoal.api('GET', `/jobs/${job.Id}/tasks/task/instances/0`)).json;
  const stdout = (await shoal.api('GET', `/jobs/${job.Id}/tasks/task/instances/0/log?stream=stdout`)).text;
  return { job, instance, stdout };
}

const kinds: Array<[string, string | undefined, () => Record<string, unknown>]> = [
  ["the worker's own OS", undefined, () => ({})],
  [
    'a root filesystem image',
    noImages && `SKIPPED LOUDLY: no test image here: ${noImages}`,
    () => ({ AutoCluster: { ImageId: rootfsImage, InstanceType: '' } }),
  ],
  [
    'a Docker image',
    noDocker && `SKIPPED LOUDLY: no Docker engine here: ${noDocker}`,
    () => ({
      Parameters: {
        Command: {
          CommandLine: '',
          PackagePath: '',
          EnvVars: {
            BATCH_COMPUTE_DOCKER_IMAGE: 'shoal-test/mounts:1',
            BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH: 'oss://mnt-images/',
          },
        },
        StdoutRedirectPath: '',
        StderrRedirectPath: '',
      },
    }),
  ],
];

for (const [kind, skip, image] of kinds) {
  describe(`Mounts in ${kind}`, { skip }, () => {
    test('file:// read-only, nas:// writable, oss:// read-only', async () => {
      assert.equal((await shoal.api('PUT', '/objects/mnt-data/ref/readme.txt', 'from oss\n')).status, 201);
      const extra = image();
      const script =
        'cat /ref/genome.fa /share/../ref/genome.fa /oss/readme.txt; (echo x > /ref/new) 2>/dev/null || echo ref-read-only; ' +
        '(echo y > /oss/new) 2>/dev/null || echo oss-read-only; echo written > /share/out-$BATCH_COMPUTE_DAG_JOB_ID.txt';
      const commandLine = `/bin/sh -c '${script}'`;
      if ('Parameters' in extra) {
        const p = extra.Parameters as { Command: { CommandLine: string } };
        p.Command.CommandLine = commandLine;
      }
      const o = await run(
        script,
        [
          { Source: `file://${ref}/`, Destination: '/ref/', WriteSupport: false },
          { Source: 'nas://fs-1.example.com:/share/', Destination: '/share', WriteSupport: true },
          { Source: 'oss://mnt-data/ref/', Destination: '/oss' },
        ],
        extra,
      );
      assert.equal(o.job.State, 'Finished', JSON.stringify(o.instance));
      assert.equal(o.stdout, '>chr1\nACGT\n>chr1\nACGT\nfrom oss\nref-read-only\noss-read-only\n');
      assert.equal(readFileSync(join(scratch, `out-${o.job.Id}.txt`), 'utf8'), 'written\n');
    });
  });
}

describe('Mounts the operator did not allow', () => {
  test('a host directory outside every rule is refused at submit, naming the entry', async () => {
    for (const source of [
      `file://${outside}/`,
      `file://${ref}/../outside/`,
      'nas://other.example.com:/share/',
      'file:///etc/',
    ]) {
      const res = await submit('cat /m/secret.txt', [{ Source: source, Destination: '/m' }]);
      assert.equal(res.status, 400, `${source}: ${res.text}`);
      assert.match(
        res.json.Message,
        /Mounts\.Entries\[0\]\.Source .*is not among the mounts this server allows/,
      );
    }
    const writable = await submit('true', [
      { Source: `file://${ref}/`, Destination: '/m', WriteSupport: true },
    ]);
    assert.equal(writable.status, 400);
    assert.match(writable.json.Message, /WriteSupport .*allows file:.* read-only/);
  });

  test('a link in an allowed directory leading out of it does not take the attempt there', async () => {
    const o = await run('cat /m/secret.txt', [{ Source: `file://${ref}/escape`, Destination: '/m' }]);
    assert.equal(o.job.State, 'Failed');
    assert.equal(o.instance.Result.ErrorCode, 'InputMappingFailed', JSON.stringify(o.instance));
    assert.match(o.instance.Result.ErrorMessage, /leads out of .* through a link/);
    assert.doesNotMatch(o.stdout, /not for tasks/);
  });
});
