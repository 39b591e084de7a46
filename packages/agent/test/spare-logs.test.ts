import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { link, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SpareLogs } from '../src/worker/spare-logs.js';

interface World {
  readonly dir: string;
  readonly spares: SpareLogs;
  at(file: string): string;
}

/** Runs `fn` over a directory of its own with a pool in it, removed afterwards. */
async function inWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-spare-'));
  try {
    await fn({ dir, spares: new SpareLogs(path.join(dir, '.spare')), at: (f) => path.join(dir, f) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('an empty log leaves its place (it reads as empty) and its file serves the next attempt', () =>
  inWorld(async (w) => {
    await writeFile(w.at('1.1.stderr'), '');
    const inode = (await stat(w.at('1.1.stderr'))).ino;
    w.spares.retire(w.at('1.1.stderr'));
    assert.equal(existsSync(w.at('1.1.stderr')), false);
    w.spares.place(w.at('2.1.stderr'));
    assert.equal((await stat(w.at('2.1.stderr'))).ino, inode, 'the same file, not a new one');
    // With the pool empty, nothing is placed: the helper creates the file.
    w.spares.place(w.at('3.1.stderr'));
    assert.equal(existsSync(w.at('3.1.stderr')), false);
  }));

test('a log with output, or linked elsewhere (an upload), stays where it is', () =>
  inWorld(async (w) => {
    await writeFile(w.at('1.1.stdout'), 'output\n');
    w.spares.retire(w.at('1.1.stdout'));
    assert.equal(await readFile(w.at('1.1.stdout'), 'utf8'), 'output\n');
    await writeFile(w.at('1.1.stderr'), '');
    await link(w.at('1.1.stderr'), w.at('object'));
    w.spares.retire(w.at('1.1.stderr'));
    assert.equal(existsSync(w.at('1.1.stderr')), true);
    w.spares.place(w.at('2.1.stdout'));
    assert.equal(existsSync(w.at('2.1.stdout')), false, 'neither became a spare');
    // A log that was never written is simply not there.
    w.spares.retire(w.at('missing.stdout'));
  }));

test('what an earlier process left in the pool is dropped, not reused', () =>
  inWorld(async (w) => {
    await writeFile(w.at('1.1.stdout'), '');
    w.spares.retire(w.at('1.1.stdout'));
    // A new process (a restarted server) over the same directory: its first retire clears the pool.
    const again = new SpareLogs(path.join(w.dir, '.spare'));
    await writeFile(w.at('2.1.stdout'), '');
    again.retire(w.at('2.1.stdout'));
    assert.equal((await readdir(path.join(w.dir, '.spare'))).length, 1);
  }));
