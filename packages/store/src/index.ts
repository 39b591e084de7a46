export type { SqlDriver, SqlValue, Row } from './driver.js';
export { SqlStore } from './sql/sql-store.js';
export { openSqliteStore } from './sqlite/open.js';
export { openPostgresStore } from './postgres/open.js';
export { openStore } from './open.js';
export type { StoreLocation } from './open.js';
