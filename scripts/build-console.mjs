#!/usr/bin/env node
// Builds the web console (packages/console) into packages/console/dist, which `shoal server` serves at
// /console: type-checks it first (Vite only strips types), then bundles it with Vite.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'packages', 'console');
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
);
const { build } = await import('vite');
await build({ root: dir, configFile: join(dir, 'vite.config.ts'), logLevel: 'warn' });
