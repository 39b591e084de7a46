import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from '../migrate.js';
import { SqlStore } from '../sql/sql-store.js';
import { SqliteDriver } from './driver.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

/** Opens (creating if needed) the SQLite database at `path` and brings its schema up to date. */
export async function openSqliteStore(path: string): Promise<SqlStore> {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
    // The database holds access-key secrets: owner-only, like credentials.json. SQLite gives its -wal and
    // -shm files the database file's mode.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  }
  const driver = SqliteDriver.open(path);
  await migrate(driver, SQLITE_MIGRATIONS);
  return new SqlStore(driver);
}
