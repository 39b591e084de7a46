import Database from 'better-sqlite3';
import type { RowUpdate } from '../deferred-writes.js';
import { deferringWrites, insertStatement, updateStatement } from '../deferred-writes.js';
import type { Row, SqlDriver, SqlValue } from '../driver.js';

type Statement = Database.Statement<unknown[], Row>;

/**
 * better-sqlite3 is synchronous, but the store's transactions are async functions: while one awaits,
 * another caller could slip statements into the open transaction. A promise chain serialises every
 * top-level operation behind the running transaction.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly inner: SqlDriver;

  constructor(db: Database.Database) {
    this.db = db;
    // Inside a transaction statements run directly: the transaction already holds the serialisation slot.
    const inner: SqlDriver = {
      dialect: 'sqlite',
      query: async <T extends Row>(sql: string, params?: readonly SqlValue[]) => this.all<T>(sql, params),
      run: async (sql, params) => this.exec(sql, params),
      insertLater: async (table, columns, values) =>
        void this.exec(insertStatement(table, columns, 1), values),
      updateLater: async (update, values) => void this.exec(updateStatement(update, 1), values),
      transaction: async (fn) => fn(inner),
      execScript: async (sql) => void this.db.exec(sql),
      close: async () => undefined,
    };
    this.inner = inner;
  }

  static open(path: string): SqliteDriver {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives process crashes (kill -9) without an fsync per commit; only an OS crash
    // can lose the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    return new SqliteDriver(db);
  }

  execScript(sql: string): Promise<void> {
    return this.serialise(() => void this.db.exec(sql));
  }

  private prepare(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql) as Statement;
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private all<T extends Row>(sql: string, params?: readonly SqlValue[]): T[] {
    const stmt = this.prepare(sql);
    return (stmt.reader ? stmt.all(...(params ?? [])) : (stmt.run(...(params ?? [])), [])) as T[];
  }

  private exec(sql: string, params?: readonly SqlValue[]): number {
    const stmt = this.prepare(sql);
    if (stmt.reader) return stmt.all(...(params ?? [])).length;
    return stmt.run(...(params ?? [])).changes;
  }

  private serialise<T>(op: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(op);
    this.tail = result.catch(() => undefined);
    return result;
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.serialise(() => this.all<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.serialise(() => this.exec(sql, params));
  }

  async insertLater(table: string, columns: readonly string[], values: readonly SqlValue[]): Promise<void> {
    await this.run(insertStatement(table, columns, 1), values);
  }

  async updateLater(update: RowUpdate, values: readonly SqlValue[]): Promise<void> {
    await this.run(updateStatement(update, 1), values);
  }

  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return this.serialise(async () => {
      this.prepare('BEGIN IMMEDIATE').run();
      try {
        const deferred = deferringWrites(this.inner);
        const value = await fn(deferred.tx);
        await deferred.flush();
        this.prepare('COMMIT').run();
        return value;
      } catch (err) {
        if (this.db.inTransaction) this.prepare('ROLLBACK').run();
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.tail;
    this.db.close();
  }
}
