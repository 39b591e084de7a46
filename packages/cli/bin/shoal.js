#!/usr/bin/env node
// Thin launcher so the bin works straight after `npm ci` (which builds dist/ via `prepare`).
import { main } from '../dist/src/main.js';

// A reader that went away (`shoal log 1 | head`) ends the command quietly, as SIGPIPE ends Unix tools:
// no stack trace, exit status 141 (128 + SIGPIPE) for scripts that check.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(process.env.DEBUG ? err : `shoal: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
