import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArchiveGuard } from './archive-guard.js';

test('plain entries are normalised', () => {
  const g = new ArchiveGuard();
  assert.equal(g.entryPath('./a//b/'), 'a/b');
  assert.equal(g.entryPath('./'), '');
  assert.equal(g.entryPath('run.sh'), 'run.sh');
  for (const root of ['/', './', '.', '//']) assert.equal(g.isRoot(root), true, root);
  for (const other of ['../', '/etc', 'a/']) assert.equal(g.isRoot(other), false, other);
});

test('absolute, .. and drive-letter names are refused', () => {
  const g = new ArchiveGuard();
  assert.throws(() => g.entryPath('/etc/passwd'), /absolute/);
  assert.throws(() => g.entryPath('C:/x'), /absolute/);
  assert.throws(() => g.entryPath('a/../../b'), /'\.\.'/);
  assert.throws(() => g.entryPath('..'), /'\.\.'/);
});

test('symlinks must stay inside and nothing may be written through them', () => {
  const g = new ArchiveGuard();
  g.symlink('lib/current', '../versions/v2');
  g.symlink('top', 'lib');
  assert.throws(() => g.entryPath('lib/current/x'), /through the symlink/);
  assert.throws(() => g.entryPath('lib/current'), /replace a symlink/);
  assert.throws(() => g.symlink('abs', '/etc'), /absolute/);
  assert.throws(() => g.symlink('a/b', '../../x'), /outside/);
  assert.throws(() => g.symlink('c', 'lib/current/..'), /climbs out of another symlink/);
  g.symlink('ok', 'lib/current/file');
});

test('hard links must name a plain entry of the archive', () => {
  const g = new ArchiveGuard();
  g.hardlink('b', 'dir/a');
  g.symlink('s', 'dir');
  assert.throws(() => g.hardlink('c', 's'), /regular file/);
  assert.throws(() => g.hardlink('c', 's/a'), /through the symlink/);
  assert.throws(() => g.hardlink('c', '/etc/shadow'), /absolute/);
  assert.throws(() => g.hardlink('c', '../x'), /'\.\.'/);
});
