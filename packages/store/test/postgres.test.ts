import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg_ from 'pg';
import { openPostgresStore } from '../src/index.js';
import type { TestPostgres } from '../src/testing.js';
import { startTestPostgres } from '../src/testing.js';
import { storeContract } from './contract.js';
import { ok, singleTaskSpec } from './fixtures.js';

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

test('two servers drain one task through exchanges without a deadlock, each instance once', async () => {
  const url = await pg.createDatabase();
  const stores = [await openPostgresStore(url), await openPostgresStore(url)];
  const stats = new Client({ connectionString: url });
  await stats.connect();
  const deadlocks = async () =>
    Number(
      (await stats.query('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()')).rows[0]
        .deadlocks,
    );
  try {
    const workers = Array.from({ length: 8 }, (_, i) => `w${i}`);
    for (const id of workers)
      await stores[0]!.registerWorker(
        { id, clusterId: 'cls-local', groupName: 'g', hostname: 'h', slots: 2 },
        0,
      );
    await stores[0]!.createJob(
      {
        id: 'job-drain',
        ownerId: 1,
        spec: singleTaskSpec('drain', { instanceCount: 300 }),
        descriptionJson: '{}',
        idempotentToken: null,
      },
      1,
    );
    const before = await deadlocks();
    const claims = new Map<number, number>();
    let now = 100;
    // One task's fresh instances are one queue row: every worker's claim contends for it, half of them
    // while holding the locks of what they report (the path that deadlocked).
    await Promise.all(
      workers.map(async (w, i) => {
        let held: string[] = [];
        for (let idle = 0; idle < 3;) {
          now++;
          const got = await stores[i % 2]!.exchangeAttempts(
            w,
            held.map((a) => ok(a, now)),
            2,
            now,
            now + 600e6,
          );
          held = got.map((c) => c.attemptId);
          for (const c of got) claims.set(c.instanceId, (claims.get(c.instanceId) ?? 0) + 1);
          idle = got.length ? 0 : idle + 1;
        }
      }),
    );
    assert.equal(claims.size, 300);
    assert.ok([...claims.values()].every((n) => n === 1));
    const job = await stores[0]!.getJob('job-drain');
    assert.equal(job?.state, 'Finished');
    assert.equal(job?.instanceCounts.finished, 300);
    assert.equal((await deadlocks()) - before, 0, 'PostgreSQL counted deadlocks');
  } finally {
    await stats.end();
    for (const s of stores) await s.close();
  }
});
