// merge: adds up the counts of every count instance into one JSON object.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COUNT_DIR, INPUT_DIR, LEVELS, MERGE_FILE, OUTPUT_DIR } from './conf.js';

const dir = join(INPUT_DIR, COUNT_DIR);
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort();
const total = Object.fromEntries(LEVELS.map((level) => [level, 0]));
for (const name of files) {
  const counts = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  for (const level of LEVELS) total[level] += counts[level] ?? 0;
}
console.log(`merge: added up ${files.length} count results from ${dir}`);

const target = join(OUTPUT_DIR, MERGE_FILE);
writeFileSync(target, JSON.stringify(total));
console.log(`merge: wrote ${target}: ${JSON.stringify(total)}`);
