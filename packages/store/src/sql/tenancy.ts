/** What keeps tenants apart beyond job rows: signature nonces, bucket owners, and per-owner event feeds. */
import type { EventRecord } from '@shoal/core';
import type { SqlDriver } from '../driver.js';
import { queryOne } from '../driver.js';
import { eventRecord } from './mappers.js';

export async function useNonce(
  db: SqlDriver,
  accessKeyId: string,
  nonce: string,
  nowUs: number,
  expiresUs: number,
): Promise<boolean> {
  // An expired entry that pruning has not reached yet is taken over; a live one makes this a replay
  // (the conditional upsert changes no row). One statement, so two servers cannot both accept a nonce.
  const changed = await db.run(
    `INSERT INTO nonces (access_key_id, nonce, expires_us) VALUES (?, ?, ?)
     ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_us = excluded.expires_us WHERE nonces.expires_us <= ?`,
    [accessKeyId, nonce, expiresUs, nowUs],
  );
  return changed > 0;
}

export function pruneNonces(db: SqlDriver, nowUs: number): Promise<number> {
  return db.run('DELETE FROM nonces WHERE expires_us <= ?', [nowUs]);
}

export async function getBucketOwner(db: SqlDriver, bucket: string): Promise<number | undefined> {
  const row = await queryOne(db, 'SELECT owner_id FROM buckets WHERE name = ?', [bucket]);
  return row ? Number(row.owner_id) : undefined;
}

export async function claimBucket(
  db: SqlDriver,
  bucket: string,
  ownerId: number,
  nowUs: number,
): Promise<number> {
  await db.run(
    'INSERT INTO buckets (name, owner_id, created_us) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
    [bucket, ownerId, nowUs],
  );
  const owner = await getBucketOwner(db, bucket);
  if (owner === undefined) throw new Error(`bucket ${bucket} has no owner right after it was claimed`);
  return owner;
}

export async function listEvents(
  db: SqlDriver,
  afterSeq: number,
  limit: number,
  ownerId?: number,
): Promise<EventRecord[]> {
  const rows =
    ownerId === undefined
      ? await db.query('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?', [afterSeq, limit])
      : await db.query(
          `SELECT e.* FROM events e JOIN jobs j ON j.id = e.job_id
           WHERE e.seq > ? AND j.owner_id = ? ORDER BY e.seq LIMIT ?`,
          [afterSeq, ownerId, limit],
        );
  return rows.map(eventRecord);
}
