import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { FilesystemSync } from '../src/worker/filesystem-sync.js';

const dir = mkdtempSync(path.join(tmpdir(), 'shoal-syncfs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('syncs the filesystems of the directories it is given, in order, and skips ones deleted since', async (t) => {
  const syncer = FilesystemSync.create();
  if (!syncer) return t.skip('shoal-syncfs was not built (no C compiler): flushes go file by file');
  try {
    writeFileSync(path.join(dir, 'a'), 'a');
    const done: number[] = [];
    await Promise.all([
      syncer.sync([dir, tmpdir()]).then(() => done.push(1)),
      syncer.sync([path.join(dir, 'gone')]).then(() => done.push(2)),
      syncer.sync([dir]).then(() => done.push(3)),
    ]);
    assert.deepEqual(done, [1, 2, 3]);
    await syncer.sync([]);
  } finally {
    syncer.close();
  }
});

test('fails what waits on a helper that died, and starts a new one for the next sync', async (t) => {
  const syncer = FilesystemSync.create();
  if (!syncer) return t.skip('shoal-syncfs was not built (no C compiler): flushes go file by file');
  try {
    await syncer.sync([dir]);
    const helper = (syncer as unknown as { helper: { kill(signal: string): void } }).helper;
    const waiting = syncer.sync([dir]);
    helper.kill('SIGKILL');
    // Answered before it died, or failed with it: never left waiting.
    await waiting.catch((err: Error) => assert.match(err.message, /exited|syncfs|EPIPE/));
    // A sync sent before its death was noticed fails too (EPIPE); the one after goes to a new helper.
    await syncer.sync([dir]).catch(() => syncer.sync([dir]));
  } finally {
    syncer.close();
  }
});

test('is not offered where the helper is missing', () => {
  assert.equal(FilesystemSync.create(path.join(dir, 'no-such-helper')), undefined);
});
