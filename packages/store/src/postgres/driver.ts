import pg from 'pg';
import type { Row, SqlDriver, SqlValue } from '../driver.js';

const placeholderCache = new Map<string, string>();

/** Rewrites `?` placeholders to `$1..$n`. Store SQL never has `?` inside string literals. */
function toPg(sql: string): string {
  let out = placeholderCache.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    placeholderCache.set(sql, out);
  }
  return out;
}

// BIGINT columns hold microsecond times and sequence numbers, all below 2^53: return them as numbers.
const INT8_OID = 20;
const typeParsers = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

// Deadlocks and serialisation failures are retried: the transaction is simply run again.
const RETRYABLE = new Set(['40001', '40P01']);

function clientDriver(client: pg.PoolClient): SqlDriver {
  const driver: SqlDriver = {
    dialect: 'postgres',
    async query<T extends Row>(sql: string, params?: readonly SqlValue[]) {
      return (await client.query(toPg(sql), params as SqlValue[])).rows as T[];
    },
    async run(sql, params) {
      return (await client.query(toPg(sql), params as SqlValue[])).rowCount ?? 0;
    },
    transaction: (fn) => fn(driver),
    execScript: async (sql) => void (await client.query(sql)),
    close: async () => undefined,
  };
  return driver;
}

export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
    // An idle pooled connection that the server drops (restart, failover, admin shutdown) emits 'error' on
    // the pool; unhandled, it would crash the process. The pool discards that client and the next query
    // opens a new connection, so there is nothing else to do here.
    this.pool.on('error', () => undefined);
  }

  static open(connectionString: string, max = 10): PostgresDriver {
    return new PostgresDriver(new pg.Pool({ connectionString, max, types: typeParsers }));
  }

  async query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return (await this.pool.query(toPg(sql), params as SqlValue[])).rows as T[];
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return (await this.pool.query(toPg(sql), params as SqlValue[])).rowCount ?? 0;
  }

  async transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      // A connection dropped mid-transaction emits 'error' on the client as well as failing the query;
      // the listener keeps that from crashing the process, and release(err) discards the broken client.
      let broken: Error | undefined;
      const onError = (err: Error) => (broken = err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const value = await fn(clientDriver(client));
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken ??= rollbackError));
        const code = (err as { code?: string }).code;
        if (attempt < 5 && code && RETRYABLE.has(code)) continue;
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    }
  }

  async execScript(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
