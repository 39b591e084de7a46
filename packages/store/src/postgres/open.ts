import { migrate } from '../migrate.js';
import { SqlStore } from '../sql/sql-store.js';
import { PostgresDriver } from './driver.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';

/**
 * Connects to PostgreSQL and brings the schema up to date. Several servers may share one database:
 * a session advisory lock keeps two of them from migrating at once.
 */
export async function openPostgresStore(connectionString: string): Promise<SqlStore> {
  const driver = PostgresDriver.open(connectionString);
  const client = await driver.pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(7720)');
    await migrate(driver, POSTGRES_MIGRATIONS);
  } finally {
    await client.query('SELECT pg_advisory_unlock(7720)').catch(() => undefined);
    client.release();
  }
  return new SqlStore(driver);
}
