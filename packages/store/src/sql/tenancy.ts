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

function ownerFilter(ownerId: number | undefined): { sql: string; params: number[] } {
  return ownerId === undefined
    ? { sql: '', params: [] }
    : {
        sql: ' AND e.job_id IN (SELECT id FROM jobs WHERE owner_id = ? AND deleted_us IS NULL)',
        params: [ownerId],
      };
}

/** Newest first by sequence number: a look at what happened lately, not a cursor to follow. */
export async function listRecentEvents(
  db: SqlDriver,
  beforeSeq: number | undefined,
  limit: number,
  ownerId?: number,
): Promise<EventRecord[]> {
  const owner = ownerFilter(ownerId);
  const rows = await db.query(
    `SELECT e.* FROM events e WHERE e.seq < ?${owner.sql} ORDER BY e.seq DESC LIMIT ?`,
    [beforeSeq ?? Number.MAX_SAFE_INTEGER, ...owner.params, limit],
  );
  return rows.map(eventRecord);
}

export async function listEvents(
  db: SqlDriver,
  afterSeq: number,
  limit: number,
  ownerId?: number,
): Promise<EventRecord[]> {
  const { sql: owner, params: ownerParams } = ownerFilter(ownerId);
  if (db.dialect === 'sqlite') {
    // SQLite transactions are serial, so sequence order is commit order.
    const rows = await db.query(`SELECT e.* FROM events e WHERE e.seq > ?${owner} ORDER BY e.seq LIMIT ?`, [
      afterSeq,
      ...ownerParams,
      limit,
    ]);
    return rows.map(eventRecord);
  }
  // PostgreSQL: in commit order (see migration 3). The cursor is the last event seen, located by its seq; only
  // events of transactions older than every running one are visible, so none can appear behind the cursor.
  const rows = await db.query(
    `SELECT e.seq, e.time_us, e.type, e.job_id, e.task_name, e.instance_id, e.state, e.detail_json FROM events e
     WHERE e.xid < pg_snapshot_xmin(pg_current_snapshot())
       AND (e.xid, e.seq) > (COALESCE((SELECT xid FROM events WHERE seq = ?), '0'::xid8), ?)${owner}
     ORDER BY e.xid, e.seq LIMIT ?`,
    [afterSeq, afterSeq, ...ownerParams, limit],
  );
  return rows.map(eventRecord);
}
