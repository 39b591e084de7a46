import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser } from 'tar';
import { packToTarGz } from './pack.js';

async function entries(bytes: Uint8Array): Promise<string[]> {
  const names: string[] = [];
  const parser = new Parser({
    onReadEntry: (entry) => {
      names.push(entry.path);
      entry.resume();
    },
  });
  await pipeline(Readable.from([Buffer.from(bytes)]), parser);
  return names.sort();
}

test('a folder is packed by its contents; files and folders by name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-pack-test-'));
  try {
    await mkdir(join(dir, 'log-count', 'lib'), { recursive: true });
    await writeFile(join(dir, 'log-count', 'split.py'), 'print(1)\n');
    await writeFile(join(dir, 'log-count', 'lib', 'conf.py'), 'X = 1\n');
    await mkdir(join(dir, 'other'));
    await writeFile(join(dir, 'other', 'run.sh'), 'echo\n');
    await writeFile(join(dir, 'top.txt'), 't\n');

    assert.deepEqual(await entries(await packToTarGz([join(dir, 'log-count')])), [
      'lib/',
      'lib/conf.py',
      'split.py',
    ]);
    assert.deepEqual(await entries(await packToTarGz([join(dir, 'top.txt'), join(dir, 'log-count')])), [
      'log-count/',
      'log-count/lib/',
      'log-count/lib/conf.py',
      'log-count/split.py',
      'top.txt',
    ]);
    // Different parent folders: still one archive root.
    assert.deepEqual(
      await entries(await packToTarGz([join(dir, 'other', 'run.sh'), join(dir, 'log-count', 'split.py')])),
      ['run.sh', 'split.py'],
    );
    await assert.rejects(packToTarGz([join(dir, 'missing')]), /does not exist/);
    await assert.rejects(
      packToTarGz([join(dir, 'log-count', 'split.py'), join(dir, 'split.py')]),
      /does not exist/,
    );
    await mkdir(join(dir, 'empty'));
    await assert.rejects(packToTarGz([join(dir, 'empty')]), /is empty/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
