import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openSqliteStore } from '../src/index.js';
import { storeContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

// SQLite is the single-server embedded backend: no two-server test.
storeContract('sqlite', () => openSqliteStore(join(dir, `db-${++n}.sqlite`)));
