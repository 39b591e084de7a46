/** The Store contract, part two: users, access keys, signature nonces, bucket owners, per-owner events. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store } from '@shoal/core';
import { jobId, singleTaskSpec } from './fixtures.js';

type Open = () => Promise<Store>;
type OpenPair = () => Promise<[Store, Store]>;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
  return 'no error';
}

export function accountsContract(name: string, open: Open, openPair?: OpenPair): void {
  describe(`Store contract (accounts): ${name}`, () => {
    it('registers, finds, lists per owner and deletes images; a repeated token returns the first', async () => {
      const store = await open();
      const image = (id: string, ownerId: number) => ({
        id,
        ownerId,
        name: `n-${id}`,
        description: 'd',
        platform: 'Linux',
        kind: 'RootFs' as const,
        source: 'oss://b/rootfs.tar.gz',
        archive: '',
        ecsImageId: 'oss://b/rootfs.tar.gz',
        createdAtUs: 5,
      });
      assert.deepEqual(await store.createImage(image('img-a', 2), 'tok'), { id: 'img-a', created: true });
      assert.deepEqual(await store.createImage(image('img-b', 2), 'tok'), { id: 'img-a', created: false });
      assert.deepEqual(await store.createImage(image('img-b', 3), 'tok'), { id: 'img-b', created: true });
      assert.deepEqual(await store.createImage(image('img-c', 2), null), { id: 'img-c', created: true });
      assert.deepEqual(await store.getImage('img-a'), image('img-a', 2));
      assert.equal(await store.getImage('img-none'), undefined);
      const mine = await store.listImages({ ownerId: 2, limit: 1 });
      assert.deepEqual(
        mine.items.map((i) => i.id),
        ['img-a'],
      );
      assert.equal(mine.nextMarker, 'img-a');
      const next = await store.listImages({ ownerId: 2, marker: mine.nextMarker, limit: 1 });
      assert.deepEqual([next.items.map((i) => i.id), next.nextMarker], [['img-c'], '']);
      assert.equal((await store.listImages({ limit: 10 })).items.length, 3);
      assert.equal(await store.deleteImage('img-a'), true);
      assert.equal(await store.deleteImage('img-a'), false);
      await store.close();
    });

    it('has the admin as owner 1 and gives new users fresh owner ids, never reused', async () => {
      const store = await open();
      assert.deepEqual(await store.getUser('admin'), {
        ownerId: 1,
        name: 'admin',
        createdAtUs: 0,
        keyCount: 0,
      });
      const alice = await store.createUser('alice', 10);
      assert.deepEqual(alice, { ownerId: 2, name: 'alice', createdAtUs: 10, keyCount: 0 });
      assert.equal(await codeOf(store.createUser('alice', 11)), 'StateConflict');
      const bob = await store.createUser('bob', 12);
      assert.ok(bob.ownerId > alice.ownerId, 'ids grow (PostgreSQL may leave gaps after a refused insert)');
      assert.equal(await store.deleteUser('bob'), true);
      assert.equal(await store.deleteUser('bob'), false);
      const again = await store.createUser('bob', 13);
      assert.ok(again.ownerId > bob.ownerId, 'a deleted owner id is not handed out again');
      await store.close();
    });

    it('lists users by name in pages with key counts', async () => {
      const store = await open();
      for (const user of ['carol', 'alice', 'bob']) await store.createUser(user, 1);
      await store.createAccessKey(
        { id: 'AKB1', secret: 'x', ownerId: (await store.getUser('bob'))!.ownerId, disabled: false },
        2,
      );
      const first = await store.listUsers({ limit: 2 });
      assert.deepEqual(
        first.items.map((u) => u.name),
        ['admin', 'alice'],
      );
      assert.equal(first.nextMarker, 'alice');
      const second = await store.listUsers({ marker: first.nextMarker, limit: 2 });
      assert.deepEqual(
        second.items.map((u) => [u.name, u.keyCount]),
        [
          ['bob', 1],
          ['carol', 0],
        ],
      );
      assert.equal(second.nextMarker, '');
      await store.close();
    });

    it('creates, looks up, lists, disables, enables and deletes access keys', async () => {
      const store = await open();
      const alice = await store.createUser('alice', 1);
      await store.createAccessKey(
        { id: 'AK1', secret: 'sealed-1', ownerId: alice.ownerId, disabled: false },
        5,
      );
      await store.createAccessKey(
        { id: 'AK2', secret: 'sealed-2', ownerId: alice.ownerId, disabled: false },
        6,
      );
      await store.putAccessKey({ id: 'AKADMIN', secret: 'plain', ownerId: 1, disabled: false }, 7);
      assert.equal(
        await codeOf(store.createAccessKey({ id: 'AK1', secret: 'other', ownerId: 1, disabled: false }, 8)),
        'StateConflict',
      );
      assert.deepEqual(await store.getAccessKey('AK1'), {
        id: 'AK1',
        secret: 'sealed-1',
        ownerId: alice.ownerId,
        disabled: false,
        ownerName: 'alice',
      });
      assert.equal(await store.getAccessKey('nope'), undefined);
      assert.deepEqual(await store.listAccessKeys(alice.ownerId), [
        { id: 'AK1', ownerId: alice.ownerId, disabled: false, createdAtUs: 5 },
        { id: 'AK2', ownerId: alice.ownerId, disabled: false, createdAtUs: 6 },
      ]);
      assert.deepEqual(
        (await store.listAccessKeys()).map((k) => k.id),
        ['AK1', 'AK2', 'AKADMIN'],
      );
      assert.equal(await store.setAccessKeyState('AK1', true), true);
      assert.equal((await store.getAccessKey('AK1'))?.disabled, true);
      assert.equal(await store.setAccessKeyState('AK1', false), true);
      assert.equal((await store.getAccessKey('AK1'))?.disabled, false);
      assert.equal(await store.setAccessKeyState('nope', true), false);
      await store.putAccessKey({ id: 'AKADMIN', secret: 'resealed', ownerId: 1, disabled: false }, 9);
      assert.equal((await store.getAccessKey('AKADMIN'))?.secret, 'resealed');
      assert.equal(await store.deleteAccessKey('AK2'), true);
      assert.equal(await store.deleteAccessKey('AK2'), false);
      assert.equal(await store.deleteUser('alice'), true);
      assert.equal(await store.getAccessKey('AK1'), undefined, 'deleting a user deletes its keys');
      assert.equal((await store.getUser('admin'))?.keyCount, 1);
      await store.close();
    });

    it('refuses a nonce seen before until it expires, per key', async () => {
      const store = await open();
      assert.equal(await store.useNonce('AK1', 'n1', 100, 200), true);
      assert.equal(await store.useNonce('AK1', 'n1', 150, 250), false);
      assert.equal(await store.useNonce('AK2', 'n1', 150, 250), true);
      assert.equal(await store.useNonce('AK1', 'n1', 200, 300), true, 'an expired nonce may be used again');
      assert.equal(await store.pruneNonces(260), 1);
      assert.equal(await store.useNonce('AK1', 'n1', 260, 400), false);
      await store.close();
    });

    it('gives a bucket to its first claimant only', async () => {
      const store = await open();
      assert.equal(await store.getBucketOwner('data'), undefined);
      assert.equal(await store.claimBucket('data', 2, 1), 2);
      assert.equal(await store.claimBucket('data', 3, 2), 2);
      assert.equal(await store.getBucketOwner('data'), 2);
      await store.close();
    });

    it('filters events by the owner of their job', async () => {
      const store = await open();
      const mine = jobId();
      const theirs = jobId();
      await store.createJob(
        { id: mine, ownerId: 2, spec: singleTaskSpec('a'), descriptionJson: '{}', idempotentToken: null },
        1,
      );
      await store.createJob(
        { id: theirs, ownerId: 3, spec: singleTaskSpec('b'), descriptionJson: '{}', idempotentToken: null },
        1,
      );
      const all = await store.listEvents(0, 1000);
      assert.ok(all.some((e) => e.jobId === mine) && all.some((e) => e.jobId === theirs));
      const own = await store.listEvents(0, 1000, 2);
      assert.ok(own.length > 0);
      assert.ok(own.every((e) => e.jobId === mine));
      await store.close();
    });

    if (openPair) {
      it('lets only one of two servers accept a nonce', async () => {
        const [a, b] = await openPair();
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).useNonce('AK', 'same', 1, 100)),
        );
        assert.equal(results.filter(Boolean).length, 1);
        await a.close();
        await b.close();
      });
    }
  });
}
