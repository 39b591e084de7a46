import assert from 'node:assert/strict';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { after, before, describe, it } from 'node:test';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { createBlobStore, createS3Client, S3BlobStore, type S3ConnectionOptions } from '../src/index.js';
import { blobStoreContract } from './contract.js';
import { uri } from './contract-context.js';

describe('S3 backend (fauxqs)', () => {
  let server: FauxqsServer | undefined;
  const connection = (): S3ConnectionOptions => {
    assert.ok(server, 'fauxqs not started');
    return {
      endpoint: `http://127.0.0.1:${server.port}`,
      region: 'us-east-1',
      accessKeyId: 'test',
      secretAccessKey: 'test',
    };
  };

  before(async () => {
    server = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
  });
  after(async () => {
    await server?.stop();
  });

  blobStoreContract('s3', async () => {
    const raw: S3Client = createS3Client(connection());
    return {
      store: createBlobStore({ kind: 's3', ...connection() }),
      cleanup: async () => raw.destroy(),
      plantObject: async (bucket, key, body) => {
        await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(body) }));
      },
    };
  });

  describe('S3BlobStore specifics', () => {
    let store: S3BlobStore;
    before(() => {
      store = new S3BlobStore({ client: createS3Client(connection()), ownsClient: true });
    });
    after(() => store.close());

    it('creates buckets idempotently', async () => {
      await Promise.all([store.ensureBucket('ensure-me'), store.ensureBucket('ensure-me')]);
      await store.putObject(uri('ensure-me', 'kept.txt'), 'still here');
      // Again, from a store that has not seen the bucket: neither an error nor an emptied bucket.
      const other = new S3BlobStore({ client: createS3Client(connection()), ownsClient: true });
      try {
        await other.ensureBucket('ensure-me');
        assert.equal((await other.readObject(uri('ensure-me', 'kept.txt'))).toString(), 'still here');
        assert.deepEqual(
          (await other.listObjects(uri('ensure-me', ''))).objects.map((o) => o.key),
          ['kept.txt'],
        );
      } finally {
        await other.close();
      }
    });

    it('presigns GET and PUT URLs usable without credentials', async () => {
      const u = uri('presigned', 'dir/file.txt');
      const put = await store.presignPutUrl(u, 60);
      const putResponse = await fetch(put, { method: 'PUT', body: 'via presigned put' });
      assert.equal(putResponse.status, 200);
      const get = await store.presignGetUrl(u, 60);
      const getResponse = await fetch(get);
      assert.equal(getResponse.status, 200);
      assert.equal(await getResponse.text(), 'via presigned put');
    });
  });
});
