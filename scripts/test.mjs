#!/usr/bin/env node
// Runs the whole test suite: every compiled *.test.js of every package, with Node's test runner.
// Builds first (tsc -b is incremental, so this is quick after `npm ci`), and makes sure the one system
// package the sandbox tests need (bubblewrap) is present when we are allowed to install it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBubblewrap } from './system-deps.mjs';

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
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], {
  cwd: root,
  stdio: 'inherit',
});
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
