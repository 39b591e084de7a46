/**
 * The log-count example of the user guide (examples/log-count) through the API, as a program using the
 * Python SDK submits it: a JobDescription written by hand (three tasks, Dependencies, Input/OutputMapping,
 * a PackagePath to a tar.gz uploaded through the objects route), signed requests, a real local worker.
 * It runs in each kind of image: the worker's own OS, a root filesystem archive registered with
 * POST /images, and a Docker image loaded from a `docker save` archive in object storage (seed 002's
 * BATCH_COMPUTE_DOCKER_* variables). The data dir is a private (0700) directory.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { create } from 'tar';
import {
  startTestDocker,
  testDockerArchive,
  testDockerUnavailable,
  sandboxSkip,
  testImagesUnavailable,
  testRootfsArchive,
  type TestDocker,
} from '@shoal/agent/testing';
import {
  startTestShoal,
  taskDescription,
  testAgents,
  testSlurmUnavailable,
  type TestShoal,
} from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../../../examples/log-count/', import.meta.url));
const PACKAGE = 'oss://log-count/packages/log-count.tar.gz';
const ROOTFS = 'oss://log-count/images/rootfs.tar.gz';
const DOCKER_REF = 'localhost:5000/shoal-log-count:1';
const DOCKER_FOLDER = 'oss://log-count/dockers/';
const LOGS = 'oss://log-count/logs/';
const LINES = 3000;

const noBwrap = existsSync('/usr/bin/bwrap')
  ? undefined
  : sandboxSkip(
      'bubblewrap is not installed (no /usr/bin/bwrap): the example maps /home/input, which needs the sandbox',
    );

const noImages = testImagesUnavailable();
const noDocker = noImages ?? testDockerUnavailable();

let dataDir = '';
/** The server of the running test: the main one, or one a placement starts for itself. */
let shoal: TestShoal | undefined;
let main: TestShoal | undefined;
let autoServer: TestShoal | undefined;
const agents = testAgents(() => shoal!.url, 2_146_000_000);
let docker: TestDocker | undefined;

before(async () => {
  if (noBwrap) return;
  if (!noDocker) docker = await startTestDocker();
  // mkdtemp makes the data dir 0700, as under /root: the sandbox must not need a path it can walk.
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-log-count-api-'));
  main = shoal = await startTestShoal(
    { slots: 3, ...(docker ? { dockerHost: docker.host, dockerNetwork: 'host' } : {}) },
    dataDir,
  );
  await putObject(PACKAGE, await packageBytes());
});

after(async () => {
  agents.cleanup();
  await main?.cleanup();
  await autoServer?.cleanup();
  await docker?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** `oss://bucket/key` -> `/objects/bucket/key`. */
const objectTarget = (uri: string): string => `/objects/${uri.slice('oss://'.length)}`;

async function putObject(uri: string, body: Buffer): Promise<void> {
  const res = await shoal!.api('PUT', objectTarget(uri), body, {
    'Content-Type': 'application/octet-stream',
  });
  assert.equal(res.status, 201, res.text);
}

async function packageBytes(): Promise<Buffer> {
  const dir = join(EXAMPLE, 'log-count');
  const chunks: Buffer[] = [];
  // The programs at the archive root: that is where the command line runs.
  const stream = create({ gzip: true, portable: true, cwd: dir }, (await readdir(dir)).sort());
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

interface Kind {
  readonly name: string;
  readonly skip: string | undefined;
  /** What each task of the job gets: its AutoCluster, or Docker's variables. */
  setup(): Promise<{ imageId: string; envVars: Record<string, string> }>;
  /** What a command sees there, to tell the kinds apart: `id -u` and the first line of /etc/os-release. */
  readonly identity: RegExp;
}

const KINDS: Kind[] = [
  {
    name: "the worker's own OS",
    skip: noBwrap,
    setup: async () => ({ imageId: 'img-ubuntu', envVars: {} }),
    identity: /^65534\n/,
  },
  {
    name: 'a root filesystem image',
    skip: noBwrap ?? (noImages && `SKIPPED LOUDLY: no test image can be built here: ${noImages}`),
    async setup() {
      await putObject(ROOTFS, await readFile(await testRootfsArchive()));
      const image = await shoal!.api('POST', '/images', {
        Name: 'log-count-rootfs',
        Platform: 'Linux',
        EcsImageId: ROOTFS,
      });
      assert.equal(image.status, 201, image.text);
      return { imageId: image.json.Id as string, envVars: {} };
    },
    identity: /^0\nPRETTY_NAME="Debian GNU\/Linux 12 \(bookworm\)"/,
  },
  {
    name: 'a Docker image',
    skip: noBwrap ?? (noDocker && `SKIPPED LOUDLY: no Docker engine for this test: ${noDocker}`),
    async setup() {
      const archive = await testDockerArchive(docker!, DOCKER_REF);
      await putObject(`${DOCKER_FOLDER}shoal-log-count.tar`, await readFile(archive));
      return {
        imageId: 'img-ubuntu',
        envVars: {
          BATCH_COMPUTE_DOCKER_IMAGE: DOCKER_REF,
          BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH: DOCKER_FOLDER,
        },
      };
    },
    identity: /^0\nPRETTY_NAME="Debian GNU\/Linux 12 \(bookworm\)"/,
  },
];

function task(
  commandLine: string,
  instanceCount: number,
  folder: string,
  image: { imageId: string; envVars: Record<string, string> },
  clusterId = '',
): Record<string, unknown> {
  const base = taskDescription(commandLine, PACKAGE);
  return {
    ...base,
    InstanceCount: instanceCount,
    Timeout: 120,
    // On a cluster of its own the task names it; else an AutoCluster (today: the default cluster).
    ...(clusterId
      ? { ClusterId: clusterId, AutoCluster: {} }
      : { AutoCluster: { ImageId: image.imageId, InstanceType: 'shoal.local', ResourceType: 'OnDemand' } }),
    InputMapping: { [folder]: '/home/input/' },
    OutputMapping: { '/home/output/': folder },
    LogMapping: {},
    WriteSupport: true,
    Parameters: {
      ...base.Parameters,
      Command: { CommandLine: commandLine, PackagePath: PACKAGE, EnvVars: image.envVars },
      StdoutRedirectPath: LOGS,
      StderrRedirectPath: LOGS,
    },
  };
}

/**
 * Where the job runs: the default cluster's embedded worker, or a cluster of its own whose workers are
 * `shoal agent`s (a static cluster: agents the test starts; a local one: agents the server starts).
 */
interface Placement {
  readonly name: string;
  readonly skip?: string | undefined;
  /** A server of its own for this placement, instead of the main one. */
  server?(): Promise<TestShoal>;
  /** While the job runs, and once it finished: what the placement must show. */
  during?(jobId: string): Promise<void>;
  finished?(jobId: string): Promise<void>;
  /** The cluster the tasks name, made ready (its workers joined); '' = AutoCluster on the default one. */
  prepare(): Promise<string>;
}

const ON_DEFAULT: Placement = { name: 'on the default cluster', prepare: async () => '' };

async function clusterWithWorkers(provider: 'static' | 'local' | 'slurm', workers: number): Promise<string> {
  const s = shoal!;
  const created = await s.api('POST', '/clusters', {
    Name: `log-count-${provider}`,
    ImageId: 'img-ubuntu',
    InstanceType: 'shoal.local',
    Provider: provider,
    Groups: { group: { DesiredVMCount: workers } },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.Id as string;
  if (provider === 'static') {
    const token = await s.api('POST', `/clusters/${id}/tokens`);
    assert.equal(token.status, 201, token.text);
    for (let i = 0; i < workers; i++) await agents.start(id, token.json.Token as string);
  }
  for (let i = 0; i < 600; i++) {
    if ((await s.api('GET', `/clusters/${id}`)).json.Groups.group.ActualVMCount === workers) return id;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`the ${provider} cluster ${id} did not get ${workers} workers`);
}

const ON_CLUSTERS: Placement[] = [
  { name: 'on a static cluster of two agents', prepare: () => clusterWithWorkers('static', 2) },
  { name: 'on a local cluster of two agents', prepare: () => clusterWithWorkers('local', 2) },
  {
    name: 'on a slurm cluster (job arrays of a real slurmctld)',
    skip: testSlurmUnavailable(),
    prepare: () => clusterWithWorkers('slurm', 2),
  },
  {
    name: 'on AutoClusters, one per task (local agents; the server has no embedded worker)',
    async server() {
      if (!autoServer) {
        autoServer = await startTestShoal({ slots: 0, autoClusters: 'local' }, join(dataDir, 'auto'));
        shoal = autoServer;
        await putObject(PACKAGE, await packageBytes());
      }
      return autoServer;
    },
    prepare: async () => '',
    async during(jobId) {
      // Each task's cluster is in its owner's list while the task lives.
      for (let i = 0; i < 600; i++) {
        const names = (await shoal!.api('GET', '/clusters')).json.Items.map((c: { Name: string }) => c.Name);
        if (names.includes(`auto.${jobId}.split`)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.fail(`no AutoCluster auto.${jobId}.split was listed`);
    },
    async finished(jobId) {
      // Released once their tasks ended.
      for (let i = 0; i < 600; i++) {
        const items = (await shoal!.api('GET', '/clusters')).json.Items as { Name: string }[];
        if (!items.some((c) => c.Name.startsWith(`auto.${jobId}.`))) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.fail(`the AutoClusters of ${jobId} were not released`);
    },
  },
];

const RUNS: { kind: Kind; placement: Placement }[] = [
  ...KINDS.map((kind) => ({ kind, placement: ON_DEFAULT })),
  ...ON_CLUSTERS.map((placement) => ({ kind: KINDS[0]!, placement })),
];

for (const [k, { kind, placement }] of RUNS.entries()) {
  test(
    `log-count in ${kind.name} ${placement.name}: the guide job submitted as a hand-written JobDescription`,
    { skip: kind.skip ?? placement.skip },
    async () => {
      shoal = placement.server ? await placement.server() : main;
      const s = shoal!;
      const image = await kind.setup();
      const clusterId = await placement.prepare();
      const FOLDER = `oss://log-count/run-${k}/`;
      const input = join(dataDir, `log-count-data-${k}.txt`);
      const printed = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [join(EXAMPLE, 'generate-input.mjs'), input, String(LINES)],
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      const expected = JSON.parse(printed) as Record<string, number>;
      await putObject(`${FOLDER}log-count-data.txt`, await readFile(input));

      const job = {
        Name: 'log-count',
        Description: 'demo',
        Priority: 1,
        Type: 'DAG',
        JobFailOnInstanceFail: true,
        AutoRelease: false,
        DAG: {
          Tasks: {
            split: task('node split.js', 1, FOLDER, image, clusterId),
            count: task('node count.js', 3, FOLDER, image, clusterId),
            merge: task('node merge.js', 1, FOLDER, image, clusterId),
          },
          Dependencies: { split: ['count'], count: ['merge'] },
        },
      };
      const created = await s.api('POST', '/jobs', job);
      assert.equal(created.status, 201, created.text);
      const id = created.json.Id as string;
      await placement.during?.(id);

      // The first attempt in an image kind unpacks or loads the image (a cold cache on a fresh machine, beside
      // other suites on two cores): allow for that, while a hang still fails.
      const done = await s.waitForJob(id, undefined, 180_000);
      if (done.State !== 'Finished') {
        const instances = await Promise.all(
          ['split', 'count', 'merge'].map((t) => s.api('GET', `/jobs/${id}/tasks/${t}/instances`)),
        );
        assert.fail(`job ${done.State}: ${JSON.stringify(done)}\n${instances.map((r) => r.text).join('\n')}`);
      }
      assert.deepEqual(done.TaskMetrics, {
        WaitingCount: 0,
        RunningCount: 0,
        FinishedCount: 3,
        FailedCount: 0,
        StoppedCount: 0,
      });
      await placement.finished?.(id);

      const result = await s.api('GET', objectTarget(`${FOLDER}merge_result.txt`));
      assert.equal(result.status, 200, result.text);
      assert.deepEqual(JSON.parse(result.text), expected);
      const parts = await s.api('GET', `/objects/log-count?Prefix=run-${k}/split_results/`);
      assert.deepEqual(
        parts.json.Items.map((o: { Key: string }) => o.Key),
        [0, 1, 2].map((i) => `run-${k}/split_results/${i}.txt`),
      );

      // Each instance's own progress lines: through the log route, and uploaded to StdoutRedirectPath.
      for (const i of [0, 1, 2]) {
        const log = await s.api('GET', `/jobs/${id}/tasks/count/instances/${i}/log?stream=stdout`);
        assert.match(
          log.text,
          new RegExp(`^count ${i}: 1000 lines in /home/input/split_results/${i}\\.txt: \\{`),
        );
      }
      const merged = await s.api('GET', objectTarget(`${LOGS}stdout.${id}.merge.0`));
      assert.equal(merged.status, 200, merged.text);
      assert.match(merged.text, /^merge: added up 3 count results from \/home\/input\/count_results\n/);
      assert.ok(
        merged.text.includes(`merge: wrote /home/output/merge_result.txt: ${JSON.stringify(expected)}`),
      );
      // Nothing was opened up on the way to the data dir.
      assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
      if (clusterId) {
        // It ran on that cluster's workers, not on the server's own.
        const vms = await s.api('GET', `/clusters/${clusterId}/groups/group/instances`);
        const workers = new Set(vms.json.Items.map((v: { Id: string }) => v.Id));
        for (const t of ['split', 'count', 'merge']) {
          const listed = await s.api('GET', `/jobs/${id}/tasks/${t}/instances`);
          for (const i of listed.json.Items)
            assert.ok(workers.has(i.WorkerId), `${t}.${i.InstanceId} ran on ${i.WorkerId}`);
        }
      }
      if (image.envVars.BATCH_COMPUTE_DOCKER_IMAGE === undefined) {
        const instance = await s.api('GET', `/jobs/${id}/tasks/count/instances/0`);
        assert.ok(instance.json.Usage.PeakMemoryBytes > 0, instance.text);
      }

      // And it ran where it should: the same image, asked who it is.
      const probe = {
        ...job,
        Name: 'whoami',
        DAG: {
          Tasks: { who: task(`/bin/sh -c 'id -u; head -1 /etc/os-release'`, 1, FOLDER, image, clusterId) },
          Dependencies: {},
        },
      };
      const who = await s.api('POST', '/jobs', probe);
      assert.equal(who.status, 201, who.text);
      assert.equal((await s.waitForJob(who.json.Id)).State, 'Finished');
      const seen = await s.api('GET', `/jobs/${who.json.Id}/tasks/who/instances/0/log?stream=stdout`);
      assert.match(seen.text, kind.identity);
    },
  );
}
