/**
 * Writes a transaction defers to its end: rows inserted into one table, or updated by one statement shape,
 * written as one statement for many rows rather than one statement each. A report of eight ended
 * instances updates eight attempts and eight instances and appends eight events; on PostgreSQL each
 * statement is a round trip, so they cost three instead of twenty-four.
 *
 * The rows are written before the transaction commits, and before any statement of it that names their
 * table, so nothing in the transaction can tell they were late: a read sees them, and rows of a table keep
 * the order they were added in (events take their sequence numbers in that order; a row of another shape
 * added to a table first writes what is pending for it).
 */
import type { Row, SqlDriver, SqlValue } from './driver.js';

/** Rows per statement: bounds the statement texts (each row count is a text PostgreSQL prepares) and sizes. */
const ROWS_PER_STATEMENT = 64;

/**
 * An UPDATE applied to many rows, each with its own values: `WITH v (<columns>) AS (VALUES ...) UPDATE
 * <table> SET <set> FROM v WHERE <where>`. `set` and `where` name the row's values `v.<column>` and the
 * table's columns `<table>.<column>` (unqualified names could mean either).
 */
export interface RowUpdate {
  readonly table: string;
  /** The values of each row, with their SQL types: PostgreSQL types the VALUES list by them. */
  readonly columns: readonly (readonly [name: string, type: 'TEXT' | 'BIGINT'])[];
  readonly set: string;
  readonly where: string;
}

export function insertStatement(table: string, columns: readonly string[], rows: number): string {
  const row = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
}

export function updateStatement(update: RowUpdate, rows: number): string {
  const row = `(${update.columns.map(([, type]) => `CAST(? AS ${type})`).join(', ')})`;
  const names = update.columns.map(([name]) => name).join(', ');
  return (
    `WITH v (${names}) AS (VALUES ${Array.from({ length: rows }, () => row).join(', ')}) ` +
    `UPDATE ${update.table} SET ${update.set} FROM v WHERE ${update.where}`
  );
}

interface Pending {
  readonly table: string;
  readonly statement: (rows: number) => string;
  readonly rows: (readonly SqlValue[])[];
}

const tableWords = new Map<string, RegExp>();

function namesTable(sql: string, table: string): boolean {
  let word = tableWords.get(table);
  if (!word) {
    word = new RegExp(`\\b${table}\\b`);
    tableWords.set(table, word);
  }
  return word.test(sql);
}

/**
 * `tx` with deferred writes: its `insertLater` and `updateLater` collect rows, its other calls write them
 * first when they name a table with rows pending. `flush` writes what is left; the driver calls it before
 * COMMIT.
 */
export function deferringWrites(tx: SqlDriver): { readonly tx: SqlDriver; flush(): Promise<void> } {
  // In the order first added, so tables are written in the order the transaction touched them.
  const pending = new Map<string, Pending>();

  const write = async (entry: Pending): Promise<void> => {
    for (let i = 0; i < entry.rows.length; i += ROWS_PER_STATEMENT) {
      const chunk = entry.rows.slice(i, i + ROWS_PER_STATEMENT);
      await tx.run(entry.statement(chunk.length), chunk.flat());
    }
  };

  const flush = async (): Promise<void> => {
    for (const entry of [...pending.values()]) await write(entry);
    pending.clear();
  };

  const before = async (sql: string): Promise<void> => {
    if (pending.size === 0) return;
    for (const { table } of pending.values()) if (namesTable(sql, table)) return flush();
  };

  const add = async (
    key: string,
    table: string,
    statement: (rows: number) => string,
    values: readonly SqlValue[],
  ) => {
    let entry = pending.get(key);
    if (!entry) {
      // Rows of another shape pending for this table go first: the table sees its writes in order.
      for (const [other, waiting] of [...pending]) {
        if (waiting.table !== table) continue;
        await write(waiting);
        pending.delete(other);
      }
      entry = { table, statement, rows: [] };
      pending.set(key, entry);
    }
    entry.rows.push(values);
  };

  const wrapped: SqlDriver = {
    dialect: tx.dialect,
    async query<T extends Row>(sql: string, params?: readonly SqlValue[]) {
      await before(sql);
      return tx.query<T>(sql, params);
    },
    async run(sql, params) {
      await before(sql);
      return tx.run(sql, params);
    },
    insertLater: (table, columns, values) =>
      add(
        `insert ${table}(${columns.join(',')})`,
        table,
        (rows) => insertStatement(table, columns, rows),
        values,
      ),
    updateLater: (update, values) =>
      add(
        `update ${update.table} ${update.set} ${update.where}`,
        update.table,
        (rows) => updateStatement(update, rows),
        values,
      ),
    transaction: (fn) => fn(wrapped),
    async execScript(sql) {
      await flush();
      return tx.execScript(sql);
    },
    close: async () => undefined,
  };
  return { tx: wrapped, flush };
}
