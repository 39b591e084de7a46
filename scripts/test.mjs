#!/usr/bin/env node
// Runs the whole test suite: every compiled *.test.js of every package, with Node's test runner.
// Builds first (tsc -b is incremental, so this is quick after `npm ci`), and makes sure the system
// packages the tests need (bubblewrap; debootstrap and docker.io for image kinds) are present when we are
// allowed to install them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBubblewrap, ensurePackages } from './system-deps.mjs';

const root = new URL('..', import.meta.url).pathname;

function testFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (entry.endsWith('.test.js')) out.push(path);
  }
  return out;
}

ensureBubblewrap();
ensurePackages(['debootstrap', 'docker.io'], {
  purpose: 'the tests of root filesystem and Docker images',
  consequence: 'those tests are skipped (and say so)',
});
ensurePackages(['chromium'], {
  purpose: "the console's browser tests",
  consequence: 'those tests are skipped (and say so)',
});
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], {
  cwd: root,
  stdio: 'inherit',
});
// The console the browser tests load is the one in the tree, not the one `npm ci` built.
execFileSync(process.execPath, [join(root, 'scripts/build-console.mjs')], { cwd: root, stdio: 'inherit' });
const only = process.argv.slice(2);
const packages = readdirSync(join(root, 'packages')).filter((p) => only.length === 0 || only.includes(p));
const files = packages.flatMap((p) => {
  const dist = join(root, 'packages', p, 'dist');
  return existsSync(dist) ? testFiles(dist) : [];
});
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
