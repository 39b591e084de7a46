/**
 * Inserts a transaction defers to its end: rows of one table and column list written as one multi-row
 * INSERT rather than one statement each. A claim of eight instances appends eight attempt rows and eight
 * events; on PostgreSQL each statement is a round trip, so they cost two instead of sixteen.
 *
 * The rows are written before the transaction commits, and before any statement of it that names their
 * table, so nothing in the transaction can tell they were late: a read sees them, and rows of a table keep
 * the order they were added in (events take their sequence numbers in that order).
 */
import type { Row, SqlDriver, SqlValue } from './driver.js';

/** Rows per statement: bounds the statement texts (each row count is a text PostgreSQL prepares) and sizes. */
const ROWS_PER_STATEMENT = 64;

interface Pending {
  readonly table: string;
  readonly columns: readonly string[];
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

export function insertStatement(table: string, columns: readonly string[], rows: number): string {
  const row = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
}

/**
 * `tx` with deferred inserts: its `insertLater` collects rows, its other calls write them first when they
 * name a table with rows pending. `flush` writes what is left; the driver calls it before COMMIT.
 */
export function deferringInserts(tx: SqlDriver): { readonly tx: SqlDriver; flush(): Promise<void> } {
  // In the order first added, so tables are written in the order the transaction touched them.
  const pending = new Map<string, Pending>();

  const flush = async (): Promise<void> => {
    for (const { table, columns, rows } of [...pending.values()]) {
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
        await tx.run(insertStatement(table, columns, chunk.length), chunk.flat());
      }
    }
    pending.clear();
  };

  const before = async (sql: string): Promise<void> => {
    if (pending.size === 0) return;
    for (const { table } of pending.values()) if (namesTable(sql, table)) return flush();
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
    async insertLater(table, columns, values) {
      const key = `${table}(${columns.join(',')})`;
      let entry = pending.get(key);
      if (!entry) {
        entry = { table, columns, rows: [] };
        pending.set(key, entry);
      }
      entry.rows.push(values);
    },
    transaction: (fn) => fn(wrapped),
    async execScript(sql) {
      await flush();
      return tx.execScript(sql);
    },
    close: async () => undefined,
  };
  return { tx: wrapped, flush };
}
