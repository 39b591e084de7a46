/**
 * The SDK runs in browsers (the console uses it): its compiled code must not import Node built-ins,
 * use require or Buffer, nor import core at run time (core's index pulls node:crypto in).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST_SRC = fileURLToPath(new URL('../src/', import.meta.url));

async function jsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await jsFiles(path)));
    else if (entry.name.endsWith('.js') && !entry.name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

test('compiled SDK code has no Node-only imports', async () => {
  const files = await jsFiles(DIST_SRC);
  assert.ok(
    files.some((f) => f.endsWith('client.js')),
    `no compiled sources under ${DIST_SRC}`,
  );
  for (const file of files) {
    // Comments may name what is avoided; only code counts.
    const code = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const problems = [
      [/from\s+['"]node:/, "imports 'node:*'"],
      [/\bimport\(\s*['"]node:/, "dynamically imports a literal 'node:*'"],
      [/\brequire\s*\(/, 'uses require()'],
      [/\bBuffer\./, 'uses Buffer'],
      [/from\s+['"]@shoal\/core['"]/, 'imports @shoal/core at run time (types only are allowed)'],
      [/from\s+['"](fs|path|crypto|os|http|https|stream)['"]/, 'imports a Node built-in'],
    ] as const;
    for (const [pattern, why] of problems) assert.ok(!pattern.test(code), `${file} ${why}`);
  }
});
