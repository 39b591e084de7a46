/**
 * Fair share between users at one priority: a user's big task does not hold back another user's
 * single-instance job submitted after it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPostgres, type TestPostgres } from '@shoal/store/testing';
import { signedFetch, simpleJob, startTestShoal, type TestShoal } from './helpers.js';

let pg: TestPostgres | undefined;
const postgres = async () => (pg ??= await startTestPostgres(process.env.SHOAL_TEST_DATABASE_URL));
after(async () => {
  await pg?.stop();
});

for (const backend of ['sqlite', 'postgres'] as const)
  describe(`on ${backend}`, () => {
    let shoal: TestShoal;

    before(async () => {
      shoal = await startTestShoal({
        slots: 1,
        sandbox: 'off',
        allowUnsandboxedUsers: true,
        ...(backend === 'postgres' ? { databaseUrl: await (await postgres()).createDatabase() } : {}),
      });
    });

    after(() => shoal.cleanup());

    it("a user's 300-instance task does not hold back another user's one-instance job", async () => {
      assert.equal((await shoal.api('POST', '/users', { Name: 'bob' })).status, 201);
      const key = (await shoal.api('POST', '/users/bob/keys')).json as {
        AccessKeyId: string;
        AccessKeySecret: string;
      };
      const bob = (method: string, target: string, body?: unknown) =>
        signedFetch(shoal.url, key.AccessKeyId, key.AccessKeySecret, method, target, body);

      const big = await shoal.api('POST', '/jobs', simpleJob('sleep 0.05', { InstanceCount: 300 }));
      assert.equal(big.status, 201, big.text);
      const small = await bob('POST', '/jobs', simpleJob('true'));
      assert.equal(small.status, 201, small.text);
      for (;;) {
        const job = (await bob('GET', `/jobs/${small.json.Id}`)).json;
        if (job.State === 'Finished') break;
        assert.ok(job.State === 'Waiting' || job.State === 'Running', JSON.stringify(job));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // Bob's job ended while the big task had barely started.
      const metrics = (await shoal.api('GET', `/jobs/${big.json.Id}`)).json.InstanceMetrics;
      assert.ok(metrics.FinishedCount < 30, JSON.stringify(metrics));
      assert.ok((await shoal.api('POST', `/jobs/${big.json.Id}/stop`)).status < 300);
    });
  });
