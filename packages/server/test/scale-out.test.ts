/**
 * The scale-out backends under the whole server: jobs on PostgreSQL, packages, inputs, outputs and logs on
 * an S3-compatible store (fauxqs), through the same API and local worker as the embedded defaults.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { create as createTar } from 'tar';
import { startTestPostgres, type TestPostgres } from '@shoal/store/testing';
import { simpleJob, startTestShoal, type TestShoal } from './helpers.js';

describe('PostgreSQL metadata and S3 objects', () => {
  let pg: TestPostgres;
  let s3: FauxqsServer;
  let shoal: TestShoal;
  const work = mkdtempSync(join(tmpdir(), 'shoal-scale-'));

  before(async () => {
    pg = await startTestPostgres(process.env.SHOAL_TEST_DATABASE_URL);
    s3 = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
    shoal = await startTestShoal({
      databaseUrl: await pg.createDatabase(),
      objectStore: 's3',
      s3Endpoint: `http://127.0.0.1:${s3.port}`,
      s3Region: 'us-east-1',
      s3AccessKeyId: 'test',
      s3SecretAccessKey: 'test',
      sandbox: 'off',
    });
  });
  after(async () => {
    await shoal?.cleanup();
    await s3?.stop();
    await pg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs a DAG with a package, an input, outputs and log redirects', async () => {
    const pkg = join(work, 'pkg');
    mkdirSync(pkg);
    writeFileSync(
      join(pkg, 'run.sh'),
      '#!/bin/sh\nwc -l < in/data.txt > out/lines.$BATCH_COMPUTE_DAG_INSTANCE_ID\necho packaged\n',
      { mode: 0o755 },
    );
    await createTar({ gzip: true, file: join(work, 'worker.tar.gz'), cwd: pkg }, ['run.sh']);
    let res = await shoal.api(
      'PUT',
      '/objects/s3data/pkg/worker.tar.gz',
      readFileSync(join(work, 'worker.tar.gz')),
      {
        'Content-Type': 'application/octet-stream',
      },
    );
    assert.equal(res.status, 201, res.text);
    res = await shoal.api('PUT', '/objects/s3data/input/data.txt', 'a\nb\nc\n', {
      'Content-Type': 'application/octet-stream',
    });
    assert.equal(res.status, 201);

    const job = simpleJob('./run.sh', {
      InstanceCount: 2,
      InputMapping: { 'oss://s3data/input/': 'in/' },
      OutputMapping: { 'out/': 'oss://s3data/output/' },
      Parameters: {
        Command: { CommandLine: './run.sh', PackagePath: 'oss://s3data/pkg/worker.tar.gz' },
        StdoutRedirectPath: 'oss://s3data/logs/',
        StderrRedirectPath: 'oss://s3data/logs/',
      },
    });
    res = await shoal.api('POST', '/jobs', job);
    assert.equal(res.status, 201, res.text);
    const id = res.json.Id;
    const done = await shoal.waitForJob(id);
    assert.equal(done.State, 'Finished', JSON.stringify(done));
    for (const n of [0, 1]) {
      assert.equal((await shoal.api('GET', `/objects/s3data/output/lines.${n}`)).text, '3\n');
      assert.equal(
        (await shoal.api('GET', `/objects/s3data/logs/stdout.${id}.task.${n}`)).text,
        'packaged\n',
      );
    }
    const listing = (await shoal.api('GET', '/objects/s3data?Prefix=output/')).json;
    assert.deepEqual(listing.Items.map((i: { Key: string }) => i.Key).sort(), [
      'output/lines.0',
      'output/lines.1',
    ]);
  });

  it('hands out presigned S3 URLs that work without credentials', async () => {
    let res = await shoal.api('POST', '/objects/s3data/presigned/up.txt?presign&Method=PUT&Expires=120');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.Method, 'PUT');
    assert.equal(res.json.Expires, 120);
    const put = await fetch(res.json.Url, { method: 'PUT', body: 'via presigned url' });
    assert.ok(put.ok, `presigned PUT: ${put.status}`);
    res = await shoal.api('GET', '/objects/s3data/presigned/up.txt?Presign=true&Expires=60');
    assert.equal(res.status, 200, res.text);
    assert.equal(await (await fetch(res.json.Url)).text(), 'via presigned url');
    // Expires is 1 s to 7 days (604800 s), as S3 allows.
    for (const bad of ['0', '604801', 'soon']) {
      const refused = await shoal.api('POST', `/objects/s3data/x?presign&Expires=${bad}`);
      assert.equal(refused.status, 400, bad);
      assert.equal(refused.json.Code, 'InvalidParameter', bad);
      assert.match(refused.json.Message, /Expires/, bad);
    }
    assert.equal((await shoal.api('POST', '/objects/s3data/x?presign&Expires=604800')).status, 200);
  });

  it('stops, restarts and deletes jobs on PostgreSQL', async () => {
    const id = (await shoal.api('POST', '/jobs', simpleJob('/bin/sleep 30', { InstanceCount: 2 }))).json.Id;
    await shoal.waitForJob(id, ['Running']);
    assert.equal((await shoal.api('POST', `/jobs/${id}/stop`)).status, 201);
    assert.equal((await shoal.waitForJob(id, ['Stopped'])).InstanceMetrics.StoppedCount, 2);
    assert.equal((await shoal.api('DELETE', `/jobs/${id}`)).status, 200);
    assert.equal((await shoal.api('GET', `/jobs/${id}`)).status, 404);
  });
});
