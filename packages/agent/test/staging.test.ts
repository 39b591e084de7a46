/** Staging as root must not write through a link that leads out of the working directory. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { planMappings } from '../src/runner/mappings.js';
import { stageMappings } from '../src/runner/staging.js';
import { assignment, fixture, type Fixture } from './support.js';

let fx: Fixture;
before(async () => {
  fx = await fixture();
  await fx.put('oss://data/in.txt', 'input\n');
  await fx.put('oss://data/dir/a.txt', 'a\n');
});
after(async () => {
  await fx.cleanup();
});

/** A working directory holding `out -> <a directory outside it>` (as a user command could leave behind). */
async function workDirWithLinkOut(): Promise<{ workDir: string; outside: string }> {
  const base = await mkdtemp(path.join(fx.dir, 'stage-'));
  const workDir = path.join(base, 'work');
  const outside = path.join(base, 'outside');
  await mkdir(workDir);
  await mkdir(outside);
  await symlink(outside, path.join(workDir, 'out'));
  await symlink('out', path.join(workDir, 'alias'));
  await symlink('../outside/file.txt', path.join(workDir, 'file-link'));
  await mkdir(path.join(workDir, 'real'));
  await symlink('real', path.join(workDir, 'inner'));
  return { workDir, outside };
}

function stage(
  workDir: string,
  overrides: Parameters<typeof assignment>[0],
): ReturnType<typeof stageMappings> {
  const plan = planMappings(assignment(overrides), { visible: workDir, host: workDir });
  return stageMappings({
    plan,
    blobs: fx.blobs,
    stageDir: async () => {
      throw new Error('no mapping here is outside the working directory');
    },
    ids: undefined,
  });
}

const refusedInputs: Array<[string, string, string]> = [
  ['a file under a link to outside', 'oss://data/in.txt', 'out/cron.d/x'],
  ['a file directly in a link to outside', 'oss://data/in.txt', 'out/x'],
  ['a file under a link to such a link', 'oss://data/in.txt', 'alias/x'],
  ['a directory at a link to outside', 'oss://data/dir/', 'out/'],
  ['a file at a dangling link to outside', 'oss://data/in.txt', 'file-link'],
];

for (const [what, source, destination] of refusedInputs) {
  test(`an input with ${what} is InputMappingFailed and nothing is written outside`, async () => {
    const { workDir, outside } = await workDirWithLinkOut();
    await assert.rejects(
      stage(workDir, { inputMappings: [{ source, destination }] }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'InputMappingFailed');
        assert.match(
          err.message,
          /InputMapping\[0\] local path .* leads out of the working directory through a symlink/,
        );
        return true;
      },
    );
    assert.deepEqual(await readdir(outside), []);
  });
}

test('an output directory under a link to outside is OutputUploadFailed and is not created', async () => {
  const { workDir, outside } = await workDirWithLinkOut();
  await assert.rejects(
    stage(workDir, { outputMappings: [{ source: 'out/results/', destination: 'oss://data/out/' }] }),
    {
      code: 'OutputUploadFailed',
    },
  );
  assert.deepEqual(await readdir(outside), []);
});

test('links that stay inside the working directory are staged through as before', async () => {
  const { workDir } = await workDirWithLinkOut();
  await stage(workDir, {
    inputMappings: [
      { source: 'oss://data/in.txt', destination: 'inner/sub/in.txt' },
      { source: 'oss://data/dir/', destination: 'fresh/dir/' },
    ],
    outputMappings: [{ source: 'inner/results/', destination: 'oss://data/out/' }],
  });
  assert.equal(await readFile(path.join(workDir, 'real/sub/in.txt'), 'utf8'), 'input\n');
  assert.equal(await readFile(path.join(workDir, 'fresh/dir/a.txt'), 'utf8'), 'a\n');
  assert.deepEqual(await readdir(path.join(workDir, 'real')), ['results', 'sub']);
});
