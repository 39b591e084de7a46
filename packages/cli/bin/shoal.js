#!/usr/bin/env node
// Thin launcher so the bin works straight after `npm ci` (which builds dist/ via `prepare`).
import { main } from '../dist/src/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(process.env.DEBUG ? err : `shoal: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
