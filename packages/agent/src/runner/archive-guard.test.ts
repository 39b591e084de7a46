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

test('a symlink may not turn a directory that an earlier link climbs out of into a link', () => {
  // The order of the reported archive: lexically s1 -> etc, but with y/x -> .. it climbs above the root.
  const deep = `${'y/x/'.repeat(8)}${'../'.repeat(16)}etc`;
  const g = new ArchiveGuard();
  g.symlink('s1', deep);
  g.entryPath('y/');
  g.entryPath('y/x');
  assert.throws(() => g.symlink('y/x', '..'), /"y\/x" would change where the earlier symlink "s1" points/);
  const h = new ArchiveGuard();
  h.symlink('a/b/s', '../c/d/../e');
  assert.throws(() => h.symlink('a/c/d', 'x'), /earlier symlink "a\/b\/s"/);
  assert.throws(() => h.symlink('a/c', 'x'), /earlier symlink "a\/b\/s"/);
});

test('links to links in any order stay allowed', () => {
  const g = new ArchiveGuard();
  // Shared-library chains, usually stored in name order: the link comes before its target link.
  g.symlink('lib/libfoo.so', 'libfoo.so.1');
  g.symlink('lib/libfoo.so.1', 'libfoo.so.1.2.3');
  // node_modules/.bin style: `..` in the target, and the final component is itself a link.
  g.symlink('node_modules/.bin/tool', '../tool/bin/tool.js');
  g.symlink('node_modules/tool/bin/tool.js', 'cli.js');
  // Accepted and remembered: the entries they point to are still ordinary entries, and a later link that
  // would re-point the path one of them climbed through is still refused.
  assert.equal(g.entryPath('lib/libfoo.so.1.2.3'), 'lib/libfoo.so.1.2.3');
  assert.equal(g.entryPath('node_modules/tool/bin/cli.js'), 'node_modules/tool/bin/cli.js');
  assert.throws(
    () => g.symlink('node_modules/tool', 'elsewhere'),
    /would change where the earlier symlink "node_modules\/\.bin\/tool" points/,
  );
});
