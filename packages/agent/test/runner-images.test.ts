/**
 * Attempts in a root filesystem image and in a Docker image: a real Debian tree built with debootstrap
 * (and a private dockerd for the Docker part). Where this machine cannot build or run them, the tests
 * say so loudly and skip.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { TaskImage } from '@shoal/core';
import {
  startTestDocker,
  testDockerArchive,
  testDockerUnavailable,
  testImagesUnavailable,
  testRootfsArchive,
  type TestDocker,
} from '../src/testing.js';
import { assignment, fixture, text, waitAttemptGone, type Fixture } from './support.js';

let fx: Fixture;
const ROOTFS: TaskImage = {
  id: 'img-test',
  kind: 'RootFs',
  source: 'oss://images/rootfs.tar.gz',
  archive: '',
};
const DOCKER: TaskImage = {
  id: '',
  kind: 'Docker',
  source: 'shoal-test/rootfs:1',
  archive: 'oss://images/docker.tar',
};
const noImages = testImagesUnavailable();

before(async () => {
  fx = await fixture();
  if (!noImages)
    await fx.blobs.uploadFile(await testRootfsArchive(), {
      scheme: 'oss',
      bucket: 'images',
      key: 'rootfs.tar.gz',
    });
});
after(async () => {
  await fx.cleanup();
});

function needsImages(t: TestContext): boolean {
  if (noImages) t.skip(`SKIPPED LOUDLY: no test image can be built here: ${noImages}`);
  return !noImages;
}

describe('root filesystem images', () => {
  test('the command runs in the image as its root, with a writable layer of its own', async (t) => {
    if (!needsImages(t)) return;
    const runner = fx.runner();
    const first = fx.io('rootfs-1');
    const r1 = await runner.runAttempt(
      assignment({
        image: ROOTFS,
        commandLine: `/bin/sh -c 'id -u; cat /etc/debian_version; node -e "console.log(1 + 1)"; echo changed > /etc/motd; cat /etc/motd; pwd'`,
      }),
      first,
    );
    assert.equal(r1.errorCode, '', `${r1.errorMessage}\n${await text(first.stderrFile)}`);
    const [uid, debian, two, motd, pwd] = (await text(first.stdoutFile)).trim().split('\n');
    assert.deepEqual([uid, two, motd, pwd], ['0', '2', 'changed', '/batchcompute/workdir']);
    assert.match(debian ?? '', /^12\./);
    // The next attempt sees the image as it was, not the first one's changes.
    const second = fx.io('rootfs-2');
    const r2 = await runner.runAttempt(
      assignment({ image: ROOTFS, commandLine: `/bin/sh -c 'grep -c changed /etc/motd || true'` }),
      second,
    );
    assert.equal(r2.errorCode, '');
    assert.equal(await text(second.stdoutFile), '0\n');
  });

  test('inputs and outputs are mapped into the image, and the host stays out of sight', async (t) => {
    if (!needsImages(t)) return;
    await fx.put('oss://data/img-in/a.txt', 'mapped\n');
    const io = fx.io('rootfs-map');
    const r = await fx.runner().runAttempt(
      assignment({
        image: ROOTFS,
        commandLine: `/bin/sh -c 'cat /home/input/a.txt > /home/output/b.txt; test -e ${fx.dir} && echo HOST; test -e /.shoal && echo SHOAL; echo done'`,
        inputMappings: [{ source: 'oss://data/img-in/', destination: '/home/input/' }],
        outputMappings: [{ source: '/home/output/', destination: 'oss://results/img-out/' }],
      }),
      io,
    );
    assert.equal(r.errorCode, '', `${r.errorMessage}\n${await text(io.stderrFile)}`);
    assert.equal(await text(io.stdoutFile), 'done\n');
    assert.equal(await fx.read('oss://results/img-out/b.txt'), 'mapped\n');
  });

  test('a missing archive is ImageUnavailable, naming it', async () => {
    const r = await fx
      .runner()
      .runAttempt(
        assignment({ image: { ...ROOTFS, source: 'oss://images/none.tar.gz' } }),
        fx.io('rootfs-none'),
      );
    assert.equal(r.errorCode, 'ImageUnavailable');
    assert.match(r.errorMessage, /oss:\/\/images\/none\.tar\.gz not found/);
  });
});

describe('Docker images', () => {
  let docker: TestDocker | undefined;
  const noDocker = noImages ?? testDockerUnavailable();

  before(async () => {
    if (noDocker) return;
    docker = await startTestDocker();
    const archive = await testDockerArchive(docker, DOCKER.source);
    await fx.blobs.uploadFile(archive, { scheme: 'oss', bucket: 'images', key: 'docker.tar' });
  });
  after(async () => {
    await docker?.stop();
  });

  function needsDocker(t: TestContext): boolean {
    if (noDocker) t.skip(`SKIPPED LOUDLY: no Docker engine for this test: ${noDocker}`);
    return !noDocker;
  }

  const runner = () => fx.runner({ docker: { host: docker!.host, network: 'host' } });

  test('the image is loaded from its archive and runs with the Docker mode environment', async (t) => {
    if (!needsDocker(t)) return;
    const io = fx.io('docker-env');
    const r = await runner().runAttempt(
      assignment({
        image: DOCKER,
        commandLine: `/bin/sh -c 'echo "$USER $HOME $PWD $PATH $BATCH_COMPUTE_DAG_INSTANCE_ID"; pwd; node -e "console.log(6 * 7)"'`,
        instanceId: 4,
      }),
      io,
    );
    assert.equal(r.errorCode, '', `${r.errorMessage}\n${await text(io.stderrFile)}`);
    assert.equal(
      await text(io.stdoutFile),
      'root /root /batchcompute/workdir /sbin:/usr/sbin:/bin:/usr/bin 4\n/batchcompute/workdir\n42\n',
    );
  });

  test('mappings, the package and outputs work in a container', async (t) => {
    if (!needsDocker(t)) return;
    await fx.put('oss://data/dk-in/a.txt', 'into docker\n');
    const io = fx.io('docker-map');
    const r = await runner().runAttempt(
      assignment({
        image: DOCKER,
        commandLine: `/bin/sh -c 'cat /home/input/a.txt > /home/output/b.txt && cat /home/output/b.txt'`,
        inputMappings: [{ source: 'oss://data/dk-in/', destination: '/home/input/' }],
        outputMappings: [{ source: '/home/output/', destination: 'oss://results/dk-out/' }],
      }),
      io,
    );
    assert.equal(r.errorCode, '', `${r.errorMessage}\n${await text(io.stderrFile)}`);
    assert.equal(await fx.read('oss://results/dk-out/b.txt'), 'into docker\n');
  });

  test('memory past the limit is OutOfMemory; a timeout kills the container', async (t) => {
    if (!needsDocker(t)) return;
    const limits = {
      instanceType: 'docker.tiny',
      cpuMillis: 500,
      memoryBytes: 64 * 1024 * 1024,
      processes: 64,
    };
    const oom = await runner().runAttempt(
      assignment({ image: DOCKER, commandLine: 'tail /dev/zero', limits }),
      fx.io('docker-oom'),
    );
    assert.equal(oom.errorCode, 'OutOfMemory', oom.errorMessage);
    assert.match(oom.errorMessage, /64 MiB \(instance type docker\.tiny\)/);
    const a = assignment({
      image: DOCKER,
      commandLine: `/bin/sh -c 'trap "" TERM; sleep 60'`,
      timeoutMs: 1000,
    });
    const started = Date.now();
    const slow = await fx
      .runner({ docker: { host: docker!.host }, killGraceMs: 500 })
      .runAttempt(a, fx.io('docker-timeout'));
    assert.equal(slow.errorCode, 'Timeout');
    assert.ok(Date.now() - started < 15_000);
    await waitAttemptGone(a.jobId);
  });

  test('a task without network access gets only loopback', async (t) => {
    if (!needsDocker(t)) return;
    const io = fx.io('docker-nonet');
    const r = await runner().runAttempt(
      assignment({
        image: DOCKER,
        networkAccess: false,
        commandLine: `/bin/sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'`,
      }),
      io,
    );
    assert.equal(r.errorCode, '', r.errorMessage);
    assert.equal(await text(io.stdoutFile), 'lo\n');
  });

  test('a command missing from the image is CommandNotFound; its own exit code 127 is just that', async (t) => {
    if (!needsDocker(t)) return;
    const missing = await runner().runAttempt(
      assignment({ image: DOCKER, commandLine: 'no-such-program-xyz -v' }),
      fx.io('docker-missing'),
    );
    assert.equal(missing.errorCode, 'CommandNotFound', missing.errorMessage);
    assert.match(missing.errorMessage, /"no-such-program-xyz"/);
    const own = await runner().runAttempt(
      assignment({ image: DOCKER, commandLine: `/bin/sh -c 'exit 127'` }),
      fx.io('docker-127'),
    );
    assert.equal(own.errorCode, 'NonZeroExitCode');
    assert.equal(own.exitCode, 127);
  });

  test('without a Docker engine the attempt is ImageUnavailable, saying so', async () => {
    const r = await fx.runner().runAttempt(assignment({ image: DOCKER }), fx.io('docker-none'));
    assert.equal(r.errorCode, 'ImageUnavailable');
    assert.match(r.errorMessage, /no Docker engine is configured/);
  });
});
