import pg from 'pg';
import type { RowUpdate } from '../deferred-writes.js';
import { deferringWrites, insertStatement, updateStatement } from '../deferred-writes.js';
import type { Row, SqlDriver, SqlValue } from '../driver.js';

/**
 * Each statement as sent: `$1..$n` placeholders, and a name under which each connection prepares it once.
 * Parsing and planning then happen once per connection rather than on every call, which on a claim or a
 * report of twenty statements is most of PostgreSQL's own time. Store SQL has a bounded set of texts (some
 * vary with a list's length); past PREPARED_MAX distinct texts the rest go unnamed, parsed every time.
 */
interface PgStatement {
  readonly name?: string;
  readonly text: string;
}

const PREPARED_MAX = 2000;
const statements = new Map<string, PgStatement>();

/** Rewrites `?` placeholders to `$1..$n`. Store SQL never has `?` inside string literals. */
function toPg(sql: string): PgStatement {
  let out = statements.get(sql);
  if (out === undefined) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    out = statements.size < PREPARED_MAX ? { name: `shoal_${statements.size + 1}`, text } : { text };
    statements.set(sql, out);
  }
  return out;
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

function send(on: Queryable, sql: string, params?: readonly SqlValue[]): Promise<pg.QueryResult> {
  const { name, text } = toPg(sql);
  return on.query({ name, text, values: params as SqlValue[] | undefined });
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
      return (await send(client, sql, params)).rows as T[];
    },
    async run(sql, params) {
      return (await send(client, sql, params)).rowCount ?? 0;
    },
    async insertLater(table, columns, values) {
      await send(client, insertStatement(table, columns, 1), values);
    },
    async updateLater(update, values) {
      await send(client, updateStatement(update, 1), values);
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
    return (await send(this.pool, sql, params)).rows as T[];
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return (await send(this.pool, sql, params)).rowCount ?? 0;
  }

  async insertLater(table: string, columns: readonly string[], values: readonly SqlValue[]): Promise<void> {
    await send(this.pool, insertStatement(table, columns, 1), values);
  }

  async updateLater(update: RowUpdate, values: readonly SqlValue[]): Promise<void> {
    await send(this.pool, updateStatement(update, 1), values);
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
        const deferred = deferringWrites(clientDriver(client));
        const value = await fn(deferred.tx);
        await deferred.flush();
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
