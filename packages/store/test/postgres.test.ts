import { after, before } from 'node:test';
import { openPostgresStore } from '../src/index.js';
import type { TestPostgres } from '../src/testing.js';
import { startTestPostgres } from '../src/testing.js';
import { storeContract } from './contract.js';

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
