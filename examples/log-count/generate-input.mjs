#!/usr/bin/env node
// Writes the input of the log-count job: a log file whose lines look like
//   2016-11-01 15:25:02 [INFO] request GET /api/items served in 35 ms
// mixing INFO, WARN, ERROR and DEBUG, and prints the counts the job must find, as JSON.
//
//   node generate-input.mjs [out-file] [lines]     (defaults: log-count-data.txt, 10000)
//
// The same arguments always give the same file: the content comes from a seeded generator, never
// Math.random, so a run's expected counts can be computed again at any time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_LINES = 10_000;
export const DEFAULT_SEED = 20161101;

const MESSAGES = {
  INFO: [
    (r) => `request GET /api/items/${r(1000)} served in ${5 + r(200)} ms`,
    (r) => `user u${r(500)} signed in from 10.0.${r(256)}.${r(256)}`,
    (r) => `batch ${r(10000)} committed with ${1 + r(64)} records`,
  ],
  WARN: [
    (r) => `slow query on table orders took ${1000 + r(4000)} ms`,
    (r) => `retrying upload of part ${r(100)} (attempt ${2 + r(3)})`,
    (r) => `disk /data is ${80 + r(20)}% full`,
  ],
  ERROR: [
    (r) => `connection to db-${r(8)} refused`,
    (r) => `request POST /api/orders failed with status ${500 + r(4)}`,
    (r) => `worker w${r(32)} exited with code ${1 + r(127)}`,
  ],
  DEBUG: [
    (r) => `cache hit for key k${r(100000)}`,
    (r) => `scheduler tick ${r(1000000)}: ${r(16)} runnable`,
    (r) => `parsed header of ${r(4096)} bytes`,
  ],
};
const LEVELS = Object.keys(MESSAGES);

/** mulberry32: a tiny, well-mixed 32-bit PRNG; returns r(n) giving integers in [0, n). */
function seededRandom(seed) {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const pad = (n) => String(n).padStart(2, '0');
const timestamp = (d) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
  `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

/**
 * The log text of `lines` lines and the number of lines of each level in it.
 * @example const { text, counts } = generateLog(10000); // counts: { INFO: …, WARN: …, ERROR: …, DEBUG: … }
 */
export function generateLog(lines = DEFAULT_LINES, seed = DEFAULT_SEED) {
  if (!Number.isInteger(lines) || lines < 0)
    throw new RangeError(`lines must be a whole number >= 0, got ${lines}`);
  const r = seededRandom(seed);
  const counts = Object.fromEntries(LEVELS.map((level) => [level, 0]));
  const out = [];
  let ms = Date.UTC(2016, 10, 1, 0, 0, 0);
  for (let i = 0; i < lines; i++) {
    ms += r(3) * 1000;
    const level = LEVELS[r(LEVELS.length)];
    const variants = MESSAGES[level];
    counts[level]++;
    out.push(`${timestamp(new Date(ms))} [${level}] ${variants[r(variants.length)](r)}`);
  }
  return { text: out.length ? `${out.join('\n')}\n` : '', counts };
}

function main(argv) {
  const [file = 'log-count-data.txt', linesText = String(DEFAULT_LINES), ...rest] = argv;
  if (rest.length > 0 || file === '-h' || file === '--help' || !/^\d+$/.test(linesText)) {
    process.stderr.write('usage: node generate-input.mjs [out-file] [lines]\n');
    return 2;
  }
  const { text, counts } = generateLog(Number(linesText));
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
