// split: cuts the log file into PARTS pieces of whole lines, one per count instance.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_FILE, INPUT_DIR, OUTPUT_DIR, PARTS, SPLIT_DIR } from './conf.js';

const source = join(INPUT_DIR, DATA_FILE);
const text = readFileSync(source, 'utf8');
const lines = text.split('\n');
if (lines.at(-1) === '') lines.pop();
console.log(`split: read ${lines.length} lines from ${source}`);

const outDir = join(OUTPUT_DIR, SPLIT_DIR);
mkdirSync(outDir, { recursive: true });
for (let i = 0; i < PARTS; i++) {
  // Even shares, and no line is lost or cut in two at a boundary.
  const part = lines.slice(
    Math.floor((i * lines.length) / PARTS),
    Math.floor(((i + 1) * lines.length) / PARTS),
  );
  writeFileSync(join(outDir, `${i}.txt`), part.length ? `${part.join('\n')}\n` : '');
  console.log(`split: wrote ${part.length} lines to ${join(outDir, `${i}.txt`)}`);
}
