import { SqlStore } from './sql/sql-store.js';
import { openPostgresStore } from './postgres/open.js';
import { openSqliteStore } from './sqlite/open.js';

/** Where the metadata lives: a PostgreSQL URL for scale-out, else a SQLite file (the embedded default). */
export type StoreLocation = { readonly databaseUrl: string } | { readonly sqlitePath: string };

export function openStore(location: StoreLocation): Promise<SqlStore> {
  if ('databaseUrl' in location) {
    if (!/^postgres(ql)?:\/\//.test(location.databaseUrl)) {
      throw new TypeError(
        `unsupported database URL ${JSON.stringify(location.databaseUrl.replace(/:[^:@/]*@/, ':***@'))}: expected postgres://...`,
      );
    }
    return openPostgresStore(location.databaseUrl);
  }
  return openSqliteStore(location.sqlitePath);
}
