import type { SqlDriver } from './driver.js';

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/** Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction. */
export async function migrate(driver: SqlDriver, migrations: readonly Migration[]): Promise<void> {
  await driver.execScript(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_us BIGINT NOT NULL)',
  );
  const rows = await driver.query<{ version: number }>('SELECT version FROM schema_migrations');
  const applied = new Set(rows.map((row) => Number(row.version)));
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    await driver.transaction(async (tx) => {
      await tx.execScript(migration.sql);
      await tx.run('INSERT INTO schema_migrations (version, applied_us) VALUES (?, ?)', [
        migration.version,
        Date.now() * 1000,
      ]);
    });
  }
}
