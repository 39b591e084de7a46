// count: instance i (BATCH_COMPUTE_DAG_INSTANCE_ID) counts the log levels of part i of the split.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COUNT_DIR, INPUT_DIR, LEVELS, OUTPUT_DIR, SPLIT_DIR } from './conf.js';

const id = process.env.BATCH_COMPUTE_DAG_INSTANCE_ID;
if (id === undefined || !/^\d+$/.test(id)) {
  console.error(
    'count: BATCH_COMPUTE_DAG_INSTANCE_ID is not set; run me as an instance of a BatchCompute task',
  );
  process.exit(2);
}

const source = join(INPUT_DIR, SPLIT_DIR, `${id}.txt`);
const counts = Object.fromEntries(LEVELS.map((level) => [level, 0]));
const levelOf = new RegExp(`\\[(${LEVELS.join('|')})\\]`);
let lines = 0;
for (const line of readFileSync(source, 'utf8').split('\n')) {
  if (line === '') continue;
  lines++;
  const m = levelOf.exec(line);
  if (m) counts[m[1]]++;
}

const outDir = join(OUTPUT_DIR, COUNT_DIR);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `${id}.json`), `${JSON.stringify(counts)}\n`);
console.log(`count ${id}: ${lines} lines in ${source}: ${JSON.stringify(counts)}`);
