/**
 * The log-count example of the user guide (examples/log-count) through the API, as a program using the
 * Python SDK submits it: a JobDescription written by hand (three tasks, Dependencies, Input/OutputMapping,
 * a PackagePath to a tar.gz uploaded through the objects route), signed requests, a real local worker.
 * The tasks map /home/input and /home/output, so they run in the bubblewrap sandbox.
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
import { startTestShoal, taskDescription, type TestShoal } from './helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../../../examples/log-count/', import.meta.url));
const FOLDER = 'oss://log-count/log-count/';
const PACKAGE = 'oss://log-count/packages/log-count.tar.gz';
const LOGS = 'oss://log-count/logs/';
const LINES = 3000;

const noBwrap = existsSync('/usr/bin/bwrap')
  ? undefined
  : 'bubblewrap is not installed (no /usr/bin/bwrap): the example maps /home/input, which needs the sandbox';

let dataDir = '';
let shoal: TestShoal | undefined;

before(async () => {
  if (noBwrap) return;
  // mkdtemp makes the data dir 0700, as under /root: the sandbox must not need a path it can walk.
  dataDir = await mkdtemp(join(tmpdir(), 'shoal-log-count-api-'));
  shoal = await startTestShoal({ slots: 3 }, dataDir);
});

after(async () => {
  await shoal?.cleanup();
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

function task(commandLine: string, instanceCount: number): Record<string, unknown> {
  const base = taskDescription(commandLine, PACKAGE);
  return {
    ...base,
    InstanceCount: instanceCount,
    Timeout: 120,
    InputMapping: { [FOLDER]: '/home/input/' },
    OutputMapping: { '/home/output/': FOLDER },
    LogMapping: {},
    WriteSupport: true,
    Parameters: { ...base.Parameters, StdoutRedirectPath: LOGS, StderrRedirectPath: LOGS },
  };
}

test('log-count: the guide job submitted as a hand-written JobDescription', { skip: noBwrap }, async () => {
  const s = shoal!;
  const input = join(dataDir, 'log-count-data.txt');
  const printed = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [join(EXAMPLE, 'generate-input.mjs'), input, String(LINES)], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
  const expected = JSON.parse(printed) as Record<string, number>;
  await putObject(`${FOLDER}log-count-data.txt`, await readFile(input));
  await putObject(PACKAGE, await packageBytes());

  const job = {
    Name: 'log-count',
    Description: 'demo',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    AutoRelease: false,
    DAG: {
      Tasks: {
        split: task('node split.js', 1),
        count: task('node count.js', 3),
        merge: task('node merge.js', 1),
      },
      Dependencies: { split: ['count'], count: ['merge'] },
    },
  };
  const created = await s.api('POST', '/jobs', job);
  assert.equal(created.status, 201, created.text);
  const id = created.json.Id as string;

  const done = await s.waitForJob(id);
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

  const result = await s.api('GET', objectTarget(`${FOLDER}merge_result.txt`));
  assert.equal(result.status, 200, result.text);
  assert.deepEqual(JSON.parse(result.text), expected);
  const parts = await s.api('GET', `/objects/log-count?Prefix=log-count/split_results/`);
  assert.deepEqual(
    parts.json.Items.map((o: { Key: string }) => o.Key),
    ['log-count/split_results/0.txt', 'log-count/split_results/1.txt', 'log-count/split_results/2.txt'],
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
  assert.ok(merged.text.includes(`merge: wrote /home/output/merge_result.txt: ${JSON.stringify(expected)}`));
  // It ran in the sandbox, with nothing opened up on the way to the data dir.
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
  const instance = await s.api('GET', `/jobs/${id}/tasks/count/instances/0`);
  assert.ok(instance.json.Usage.PeakMemoryBytes > 0, instance.text);
});
