#!/usr/bin/env node
// Compiles the agent's small C programs during `npm ci`/`npm run build`:
// - shoal-spawn, the helper that starts commands and keeps the warm sandboxes;
// - shoal-sandbox-init, the first process inside each sandbox, linked statically because it also runs on
//   root-filesystem images whose C library may not be the host's;
// - shoal-syncfs, which makes a worker's uploads durable a filesystem at a time (without it, file by file).
// Without a C compiler, plain (unsandboxed) commands still start through a slower Node launcher, but no
// sandbox can run: the worker then refuses to start unless --sandbox off (and says to install gcc).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'packages/agent/native');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

const headers = readdirSync(dir).filter((f) => f.endsWith('.h'));
const programs = [
  {
    name: 'shoal-spawn',
    sources: ['shoal-spawn.c', 'spawn-plain.c', 'spawn-cgroup.c', 'spawn-sandbox.c'],
    flags: [[]],
  },
  // Static first; a dynamic init still serves the worker's own OS.
  { name: 'shoal-sandbox-init', sources: ['shoal-sandbox-init.c'], flags: [['-static'], []] },
  { name: 'shoal-syncfs', sources: ['shoal-syncfs.c'], flags: [[]] },
];

const compilers = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
let failed = false;
for (const program of programs) {
  const target = join(dir, program.name);
  const inputs = [...program.sources, ...headers].map((f) => join(dir, f));
  if (inputs.every((f) => mtime(target) > mtime(f))) continue;
  mkdirSync(dirname(target), { recursive: true });
  let built = false;
  for (const extra of program.flags) {
    for (const cc of compilers) {
      const args = ['-O2', '-Wall', ...extra, '-o', target, ...program.sources.map((f) => join(dir, f))];
      const result = spawnSync(cc, args, { stdio: 'inherit' });
      if (result.status === 0) {
        built = true;
        if (extra.length === 0 && program.flags.length > 1)
          console.warn(
            `shoal: ${program.name} is linked dynamically (no static C library): root-filesystem images need the host's libc`,
          );
        break;
      }
      if (result.error?.code !== 'ENOENT') break;
    }
    if (built) break;
  }
  if (!built) failed = true;
}
if (failed)
  console.warn(
    'shoal: could not compile packages/agent/native/*.c (install gcc and libc6-dev): sandboxed attempts cannot run, ' +
      'and plain commands start through the slower Node launcher',
  );
