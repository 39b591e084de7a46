/**
 * Deferred inserts, on both drivers: rows a transaction inserts later are there for its own reads, in the
 * order added, are written when it commits (in statements of many rows), and vanish with it on a rollback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SqlDriver } from '../src/driver.js';
import { PostgresDriver } from '../src/postgres/driver.js';
import { SqliteDriver } from '../src/sqlite/driver.js';
import type { TestPostgres } from '../src/testing.js';
import { startTestPostgres } from '../src/testing.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-deferred-'));
let pg: TestPostgres;
const opened: SqlDriver[] = [];
before(async () => {
  pg = await startTestPostgres(process.env.SHOAL_TEST_DATABASE_URL);
});
after(async () => {
  for (const db of opened) await db.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const drivers: Record<string, () => Promise<SqlDriver>> = {
  sqlite: async () => {
    const db = SqliteDriver.open(join(dir, `db-${++n}.sqlite`));
    await db.execScript('CREATE TABLE notes (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)');
    return db;
  },
  postgres: async () => {
    const db = PostgresDriver.open(await pg.createDatabase());
    await db.execScript('CREATE TABLE notes (seq BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)');
    return db;
  },
};

const bodies = async (db: SqlDriver) =>
  (await db.query<{ body: string }>('SELECT body FROM notes ORDER BY seq')).map((r) => r.body);

for (const [name, open] of Object.entries(drivers)) {
  describe(`deferred inserts: ${name}`, () => {
    it('are seen by the transaction’s own reads, in the order added, and are there after it commits', async () => {
      const db = await open();
      opened.push(db);
      const seenInside = await db.transaction(async (tx) => {
        await tx.insertLater('notes', ['body'], ['a']);
        await tx.run('CREATE TABLE IF NOT EXISTS unrelated (x INTEGER)');
        await tx.insertLater('notes', ['body'], ['b']);
        return bodies(tx);
      });
      assert.deepEqual(seenInside, ['a', 'b']);
      await db.transaction(async (tx) => {
        for (let i = 0; i < 150; i++) await tx.insertLater('notes', ['body'], [`r${i}`]);
      });
      const all = await bodies(db);
      assert.deepEqual(all, ['a', 'b', ...Array.from({ length: 150 }, (_, i) => `r${i}`)]);
    });

    it('vanish with a transaction that fails, and are written at once outside one', async () => {
      const db = await open();
      opened.push(db);
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.insertLater('notes', ['body'], ['lost']);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.deepEqual(await bodies(db), []);
      await db.insertLater('notes', ['body'], ['now']);
      assert.deepEqual(await bodies(db), ['now']);
    });

    it('fail the transaction when a row is refused at commit', async () => {
      const db = await open();
      opened.push(db);
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run("INSERT INTO notes (body) VALUES ('kept only if all commit')");
          await tx.insertLater('notes', ['body'], [null]);
        }),
      );
      assert.deepEqual(await bodies(db), []);
    });
  });
}
