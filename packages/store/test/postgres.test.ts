import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg_ from 'pg';
import { openPostgresStore } from '../src/index.js';
import type { TestPostgres } from '../src/testing.js';
import { startTestPostgres } from '../src/testing.js';
import { storeContract } from './contract.js';

const { Client } = pg_;
type Client = InstanceType<typeof Client>;

let pg: TestPostgres;
before(async () => {
  pg = await startTestPostgres(process.env.SHOAL_TEST_DATABASE_URL);
});
after(async () => {
  await pg?.stop();
});

storeContract(
  'postgres',
  async () => openPostgresStore(await pg.createDatabase()),
  async () => {
    const url = await pg.createDatabase();
    const first = await openPostgresStore(url);
    return [first, await openPostgresStore(url)];
  },
);

test('events are read in commit order: none is passed while an older transaction is still open', async () => {
  const url = await pg.createDatabase();
  const store = await openPostgresStore(url);
  const older = new Client({ connectionString: url });
  const newer = new Client({ connectionString: url });
  await older.connect();
  await newer.connect();
  const insert = (client: Client, type: string) =>
    client.query(`INSERT INTO events (time_us, type, job_id) VALUES (1, $1, 'job-x')`, [type]);
  try {
    await older.query('BEGIN');
    await older.query('SELECT pg_current_xact_id()'); // takes its transaction id first
    await newer.query('BEGIN');
    await insert(newer, 'Newer');
    await newer.query('COMMIT');
    await insert(older, 'Older');
    // The newer transaction committed, but an older one is still open: nothing may be handed out yet,
    // or a reader's cursor would move past the older transaction's event.
    assert.deepEqual(await store.listEvents(0, 10), []);
    await older.query('COMMIT');
    const events = await store.listEvents(0, 10);
    assert.deepEqual(
      events.map((e) => e.type),
      ['Older', 'Newer'],
    );
    assert.deepEqual(await store.listEvents(events[0]!.seq, 10).then((rest) => rest.map((e) => e.type)), [
      'Newer',
    ]);
    assert.deepEqual(await store.listEvents(events[1]!.seq, 10), []);
  } finally {
    await older.end();
    await newer.end();
    await store.close();
  }
});
