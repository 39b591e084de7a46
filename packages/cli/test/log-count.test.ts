/**
 * The log-count example of the user guide (examples/log-count), through the CLI as a user runs it: a
 * real `shoal server` subprocess, the input uploaded through the SDK, `shoal sub --file job.cfg -r … -w …
 * --wait` from the example's directory, and the merged counts checked against the generator's.
 * Its tasks map /home/input and /home/output, so they run in the bubblewrap sandbox.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShoalClient } from '@shoal/sdk';
import { sandboxSkip } from '@shoal/agent/testing';
import { startServer, stopServer, type Harness, type Result } from './harness.js';

const EXAMPLE = fileURLToPath(new URL('../../../../examples/log-count/', import.meta.url));
const FOLDER = 'oss://log-count/log-count/';
const LINES = 3000;

const noBwrap = existsSync('/usr/bin/bwrap')
  ? undefined
  : sandboxSkip(
      'bubblewrap is not installed (no /usr/bin/bwrap): the example maps /home/input, which needs the sandbox',
    );

let h: Harness | undefined;

const shoal = (args: string[], cwd?: string): Promise<Result> => h!.run(args, { cwd });

function client(): ShoalClient {
  return new ShoalClient({
    endpoint: h!.endpoint,
    accessKeyId: h!.creds.AccessKeyId,
    accessKeySecret: h!.creds.AccessKeySecret,
  });
}

before(async () => {
  if (noBwrap) return;
  // Without --sandbox off: the tasks map /home/input and /home/output, so they run under bubblewrap.
  h = await startServer('shoal-log-count-cli-', []);
});

after(async () => {
  await stopServer(h);
});

test(
  'log-count: shoal sub --file job.cfg counts the generated log like the guide',
  { skip: noBwrap },
  async () => {
    const { root, dataDir } = h!;
    // The generator is run as a user would; it prints the counts the job must find.
    const input = join(root, 'log-count-data.txt');
    const generated = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [join(EXAMPLE, 'generate-input.mjs'), input, String(LINES)],
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      ),
    );
    const expected = JSON.parse(generated) as Record<string, number>;
    assert.deepEqual(Object.keys(expected).sort(), ['DEBUG', 'ERROR', 'INFO', 'WARN']);
    assert.equal(
      Object.values(expected).reduce((a, b) => a + b, 0),
      LINES,
    );
    const sdk = client();
    await sdk.putObject(`${FOLDER}log-count-data.txt`, await readFile(input));

    const sub = await shoal(
      [
        'sub',
        '--file',
        'job.cfg',
        '-p',
        './log-count/',
        '-r',
        `${FOLDER}:/home/input`,
        '-w',
        `${FOLDER}:/home/output`,
        '--wait',
      ],
      EXAMPLE,
    );
    const id = /^Job created: (job-\S+)$/m.exec(sub.stdout)?.[1];
    assert.ok(id, `no job id in: ${sub.stdout}${sub.stderr}`);
    if (sub.code !== 0) {
      const detail = await shoal(['ch', id]);
      const log = await shoal(['log', id]);
      assert.fail(
        `sub exited ${sub.code}:\n${sub.stdout}${sub.stderr}\n${detail.stdout}\n${log.stdout}\n${h!.log()}`,
      );
    }
    assert.match(sub.stdout, new RegExp(`^Job ${id} Finished$`, 'm'));
    assert.match(sub.stderr, /Packed .*log-count -> oss:\/\/shoal\/cli\/\S+\/worker\.tar\.gz/);

    const merged = JSON.parse(new TextDecoder().decode(await sdk.getObject(`${FOLDER}merge_result.txt`)));
    assert.deepEqual(merged, expected);
    // The embedded object store keeps oss://bucket/key at <data-dir>/objects/bucket/key.
    const onDisk = await readFile(join(dataDir, 'objects/log-count/log-count/merge_result.txt'), 'utf8');
    assert.deepEqual(JSON.parse(onDisk), expected);
    for (const i of [0, 1, 2]) {
      const part = JSON.parse(
        await readFile(join(dataDir, `objects/log-count/log-count/count_results/${i}.json`), 'utf8'),
      );
      assert.deepEqual(Object.keys(part).sort(), ['DEBUG', 'ERROR', 'INFO', 'WARN']);
    }

    const desc = await shoal(['job', id, '-d']);
    const dag = (
      JSON.parse(desc.stdout) as {
        DAG: { Dependencies: unknown; Tasks: Record<string, { InstanceCount: number }> };
      }
    ).DAG;
    assert.deepEqual(dag.Dependencies, { split: ['count'], count: ['merge'] });
    assert.equal(dag.Tasks['count']!.InstanceCount, 3);

    const log = await shoal(['log', id]);
    assert.equal(log.code, 0, log.stderr);
    assert.match(
      log.stdout,
      new RegExp(
        `==> split\\.0 stdout <==\\nsplit: read ${LINES} lines from /home/input/log-count-data\\.txt\\n`,
      ),
    );
    assert.match(log.stdout, /split: wrote 1000 lines to \/home\/output\/split_results\/2\.txt/);
    for (const i of [0, 1, 2]) {
      assert.match(
        log.stdout,
        new RegExp(
          `==> count\\.${i} stdout <==\\ncount ${i}: 1000 lines in /home/input/split_results/${i}\\.txt: \\{`,
        ),
      );
    }
    assert.match(log.stdout, /==> merge\.0 stdout <==\nmerge: added up 3 count results/);
    assert.ok(log.stdout.includes(`merge: wrote /home/output/merge_result.txt: ${JSON.stringify(expected)}`));

    // The acceptance walk of the guide with the bcs bin: list, check and log by row number, cat the result.
    const list = await shoal(['j']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^1\\s+${id}\\s+log-count\\s+Finished\\s+3/3`, 'm'));
    const check = await shoal(['ch', '1']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, new RegExp(`^Id:\\s+${id}$`, 'm'));
    assert.match(check.stdout, /^2\s+count\s+Finished\s+3\/3/m);
    const byRow = await shoal(['log', '1']);
    assert.equal(byRow.stdout, log.stdout);
    const cat = await shoal(['oss', 'cat', `${FOLDER}merge_result.txt`]);
    assert.equal(cat.code, 0, cat.stderr);
    assert.deepEqual(JSON.parse(cat.stdout), expected);
  },
);
