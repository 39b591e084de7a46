import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { link, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SpareLogs } from '../src/worker/spare-logs.js';

interface World {
  readonly dir: string;
  readonly spares: SpareLogs;
  at(file: string): string;
}

/** Runs `fn` over a directory of its own, removed afterwards. */
async function inWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-spare-'));
  try {
    await fn({ dir, spares: new SpareLogs(), at: (f) => path.join(dir, f) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('an empty log stays where it is, reading as empty, until its file becomes the next attempt’s log', () =>
  inWorld(async (w) => {
    await writeFile(w.at('1.1.stderr'), '');
    const inode = (await stat(w.at('1.1.stderr'))).ino;
    assert.equal(w.spares.retire(w.at('1.1.stderr')), true);
    assert.equal(await readFile(w.at('1.1.stderr'), 'utf8'), '');
    w.spares.place(w.at('2.1.stderr'));
    assert.equal((await stat(w.at('2.1.stderr'))).ino, inode, 'the same file, not a new one');
    assert.equal(existsSync(w.at('1.1.stderr')), false, 'moved, so it reads as empty by its absence');
    // With none kept, nothing is placed: the helper creates the file.
    w.spares.place(w.at('3.1.stderr'));
    assert.equal(existsSync(w.at('3.1.stderr')), false);
  }));

test('a log with output, linked elsewhere (an upload) or missing is not kept', () =>
  inWorld(async (w) => {
    await writeFile(w.at('1.1.stdout'), 'output\n');
    assert.equal(w.spares.retire(w.at('1.1.stdout')), false);
    await writeFile(w.at('1.1.stderr'), '');
    await link(w.at('1.1.stderr'), w.at('object'));
    assert.equal(w.spares.retire(w.at('1.1.stderr')), false);
    assert.equal(w.spares.retire(w.at('missing.stdout')), false);
    w.spares.place(w.at('2.1.stdout'));
    assert.equal(existsSync(w.at('2.1.stdout')), false, 'none became a spare');
    assert.equal(await readFile(w.at('1.1.stdout'), 'utf8'), 'output\n');
  }));

test('a kept file that went away (its job was deleted) is skipped; at most 64 are kept', () =>
  inWorld(async (w) => {
    await writeFile(w.at('gone.stdout'), '');
    assert.equal(w.spares.retire(w.at('gone.stdout')), true);
    await rm(w.at('gone.stdout'));
    w.spares.place(w.at('next.stdout'));
    assert.equal(existsSync(w.at('next.stdout')), false);
    let kept = 0;
    for (let i = 0; i < 70; i++) {
      await writeFile(w.at(`${i}.stderr`), '');
      if (w.spares.retire(w.at(`${i}.stderr`))) kept++;
    }
    assert.equal(kept, 64);
  }));
