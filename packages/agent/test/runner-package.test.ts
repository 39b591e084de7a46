import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { refuseLinksLeaving } from '../src/runner/package.js';
import { assignment, fixture, tarGz, text, zip, type Fixture, type Member } from './support.js';

let fx: Fixture;
before(async () => {
  fx = await fixture();
});
after(async () => {
  await fx.cleanup();
});

const RUN_SH = '#!/bin/sh\necho "run from $(basename "$PWD")"\ncat lib/data.txt\n';

test('a .tar.gz package is unpacked into the working directory and ./run.sh runs from it', async () => {
  await fx.put(
    'oss://pkgs/worker.tar.gz',
    tarGz([
      // Python's tarfile writes the root as '/' when packing with arcname '' (as the bcs CLI can).
      { name: '/', type: 'dir', mode: 0o700 },
      { name: 'lib/', type: 'dir' },
      { name: 'lib/data.txt', body: 'payload\n' },
      { name: 'run.sh', body: RUN_SH, mode: 0o755 },
      { name: 'alias.txt', type: 'symlink', link: 'lib/data.txt' },
    ]),
  );
  const io = fx.io('tgz');
  const a = assignment({ packagePath: 'oss://pkgs/worker.tar.gz', commandLine: `./run.sh` });
  const r = await fx.runner().runAttempt(a, io);
  assert.equal(r.errorCode, '', r.errorMessage);
  assert.equal(await text(io.stdoutFile), `run from workdir\npayload\n`);
});

test('a .zip package is unpacked with its modes, and interpreters find scripts relative to it', async () => {
  await fx.put(
    'oss://pkgs/worker.zip',
    zip([
      { name: './', type: 'dir' },
      { name: 'lib', type: 'dir' },
      { name: 'lib/data.txt', body: 'zipped\n' },
      { name: 'run.sh', body: RUN_SH, mode: 0o755 },
      { name: 'split.sh', body: 'echo split "$@"\n' },
      { name: 'link', type: 'symlink', link: 'lib' },
    ]),
  );
  const io = fx.io('zip');
  const r = await fx
    .runner()
    .runAttempt(assignment({ packagePath: 'oss://pkgs/worker.zip', commandLine: './run.sh' }), io);
  assert.equal(r.errorCode, '', r.errorMessage);
  assert.match(await text(io.stdoutFile), /zipped/);
  const io2 = fx.io('zip2');
  const r2 = await fx
    .runner()
    .runAttempt(assignment({ packagePath: 'oss://pkgs/worker.zip', commandLine: 'sh split.sh x' }), io2);
  assert.equal(r2.errorCode, '', r2.errorMessage);
  assert.equal(await text(io2.stdoutFile), 'split x\n');
});

test('a missing package is PackageDownloadFailed', async () => {
  const r = await fx.runner().runAttempt(assignment({ packagePath: 'oss://pkgs/nope.tgz' }), fx.io('nopkg'));
  assert.equal(r.errorCode, 'PackageDownloadFailed');
  assert.equal(r.errorMessage, 'package oss://pkgs/nope.tgz not found');
  const r2 = await fx
    .runner()
    .runAttempt(assignment({ packagePath: 'oss://pkgs/nope.zip' }), fx.io('nopkg2'));
  assert.equal(r2.errorCode, 'PackageDownloadFailed');
  const r3 = await fx.runner().runAttempt(assignment({ packagePath: 'http://x/y.tgz' }), fx.io('nopkg3'));
  assert.equal(r3.errorCode, 'PackageDownloadFailed');
});

test('a package that is not an archive is PackageExtractFailed', async () => {
  await fx.put(
    'oss://pkgs/garbage.tgz',
    'this is not a tarball at all, just some text that goes on and on'.repeat(20),
  );
  const r = await fx
    .runner()
    .runAttempt(assignment({ packagePath: 'oss://pkgs/garbage.tgz' }), fx.io('garbage'));
  assert.equal(r.errorCode, 'PackageExtractFailed');
});

const unique = `shoal-evil-${process.pid}-${Date.now()}`;
const hostile: Array<[string, Member[], RegExp]> = [
  ['a ../ entry', [{ name: `../${unique}`, body: 'x' }], /'\.\.'/],
  ['a nested ../ entry', [{ name: `a/../../${unique}`, body: 'x' }], /'\.\.'/],
  ['an absolute path', [{ name: `/tmp/${unique}`, body: 'x' }], /absolute/],
  [
    'a symlink to /etc and a file through it',
    [
      { name: 'etc', type: 'symlink', link: '/etc' },
      { name: `etc/${unique}`, body: 'x' },
    ],
    /absolute path/,
  ],
  [
    'a relative symlink out and a file through it',
    [
      { name: 'up', type: 'symlink', link: '../..' },
      { name: `up/${unique}`, body: 'x' },
    ],
    /outside the package/,
  ],
  [
    'a symlink chain climbing out of another symlink',
    [
      { name: 'd/', type: 'dir' },
      { name: 'd/self', type: 'symlink', link: '..' },
      { name: 'esc', type: 'symlink', link: 'd/self/..' },
    ],
    /climbs out of another symlink/,
  ],
  ['a hard link to a host file', [{ name: 'passwd', type: 'hardlink', link: '/etc/passwd' }], /absolute/],
];

for (const [what, members, why] of hostile) {
  for (const format of ['tgz', 'zip'] as const) {
    if (format === 'zip' && members.some((m) => m.type === 'hardlink')) continue;
    test(`a ${format} package with ${what} is refused and writes nothing outside`, async () => {
      const uri = `oss://pkgs/hostile-${format}-${hostile.findIndex((h) => h[0] === what)}.${format}`;
      await fx.put(uri, format === 'tgz' ? tarGz(members) : zip(members));
      const a = assignment({ packagePath: uri, commandLine: '/bin/true' });
      const r = await fx.runner({ keepWorkDirs: true }).runAttempt(a, fx.io(`hostile-${format}`));
      assert.equal(r.errorCode, 'PackageExtractFailed', r.errorMessage);
      if (format === 'tgz') assert.match(r.errorMessage, why);
      for (const place of [
        path.join('/tmp', unique),
        path.join('/etc', unique),
        path.join(fx.workRoot, unique),
        path.join(fx.dir, unique),
      ]) {
        assert.equal(existsSync(place), false, `${place} was written`);
      }
    });
  }
}

// A link that the guard sees as inside when it is made (s1 -> etc), until a later entry (y/x -> ..) turns a
// directory it climbs out of into a link: then s1 leads to /etc, and input staging would write there as root.
const LATE_LINK: Member[] = [
  { name: 's1', type: 'symlink', link: `${'y/x/'.repeat(8)}${'../'.repeat(16)}etc` },
  { name: 'y/', type: 'dir' },
  { name: 'y/x', type: 'symlink', link: '..' },
];

for (const format of ['tgz', 'zip'] as const) {
  test(`a ${format} package whose later link redirects an earlier one out of the working directory is refused`, async () => {
    const uri = `oss://pkgs/late-link.${format}`;
    await fx.put(uri, format === 'tgz' ? tarGz(LATE_LINK) : zip(LATE_LINK));
    const a = assignment({
      packagePath: uri,
      commandLine: '/bin/true',
      inputMappings: [{ source: 'oss://pkgs/late-link.tgz', destination: `s1/${unique}` }],
    });
    const r = await fx.runner().runAttempt(a, fx.io(`late-link-${format}`));
    assert.equal(r.errorCode, 'PackageExtractFailed', r.errorMessage);
    assert.match(r.errorMessage, /symlink "y\/x" would change where the earlier symlink "s1" points/);
    assert.equal(existsSync(path.join('/etc', unique)), false);
  });
}

test('after unpacking, any link that resolves outside the working directory refuses the package', async () => {
  // The tree the archive above would make, built directly: the on-disk check must catch it by itself.
  const work = await mkdtemp(path.join(fx.dir, 'tree-'));
  await symlink(LATE_LINK[0]?.link ?? '', path.join(work, 's1'));
  await mkdir(path.join(work, 'y'));
  await symlink('..', path.join(work, 'y/x'));
  await assert.rejects(
    refuseLinksLeaving(work),
    /symlink "s1" -> "y\/x\/.*etc" leads to \/etc, outside the working directory/,
  );
  await rm(path.join(work, 's1'));
  await mkdir(path.join(work, 'deep/er'), { recursive: true });
  await symlink('../../../..', path.join(work, 'deep/er/up'));
  await assert.rejects(refuseLinksLeaving(work), /symlink "deep\/er\/up" -> "..\/..\/..\/.." leads to /);
  await rm(path.join(work, 'deep/er/up'));
  // Links that stay inside, dangling links and links to links are fine.
  await symlink('y/x/y', path.join(work, 'loopish'));
  await symlink('missing/file', path.join(work, 'dangling'));
  await symlink('loopish', path.join(work, 'chain'));
  await refuseLinksLeaving(work);
});
