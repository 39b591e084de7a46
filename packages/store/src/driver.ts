/**
 * The narrow SQL surface the store logic needs. SQL is written once with `?` placeholders; each backend's
 * driver adapts placeholders and value types. Booleans are stored as 0/1 integers and times as integer
 * microseconds in both backends so rows look the same everywhere.
 */
import type { RowUpdate } from './deferred-writes.js';

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement; returns the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Inserts one row. Inside a transaction the row may be written later, with others of its table, as one
   * statement (see deferred-writes.ts); outside one it is written at once.
   */
  insertLater(table: string, columns: readonly string[], values: readonly SqlValue[]): Promise<void>;
  /** Updates by one row's values; deferred like insertLater (see RowUpdate). */
  updateLater(update: RowUpdate, values: readonly SqlValue[]): Promise<void>;
  /**
   * Runs `fn` in one transaction (serialisable enough for the store's invariants: SQLite's single writer,
   * PostgreSQL row locks taken by the statements themselves). Nested calls reuse the outer transaction.
   */
  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T>;
  /** Runs a multi-statement script without parameters (migrations). */
  execScript(sql: string): Promise<void>;
  close(): Promise<void>;
}

export async function queryOne<T extends Row = Row>(
  db: SqlDriver,
  sql: string,
  params?: readonly SqlValue[],
): Promise<T | undefined> {
  const rows = await db.query<T>(sql, params);
  return rows[0];
}
