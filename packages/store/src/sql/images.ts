/** Images users registered: one row each, listed by id. */
import type { ImageRecord, ListImagesQuery, Page } from '@shoal/core';
import type { Row, SqlDriver, SqlValue } from '../driver.js';
import { queryOne } from '../driver.js';
import { isUniqueViolation } from './accounts.js';

function imageRecord(row: Row): ImageRecord {
  return {
    id: String(row.id),
    ownerId: Number(row.owner_id),
    name: String(row.name),
    description: String(row.description),
    platform: String(row.platform),
    kind: row.kind === 'Docker' ? 'Docker' : 'RootFs',
    source: String(row.source),
    archive: String(row.archive),
    ecsImageId: String(row.ecs_image_id),
    createdAtUs: Number(row.created_us),
  };
}

export async function createImage(
  db: SqlDriver,
  image: ImageRecord,
  idempotentToken: string | null,
): Promise<{ id: string; created: boolean }> {
  const existing = async () =>
    idempotentToken === null
      ? undefined
      : queryOne(db, 'SELECT id FROM images WHERE owner_id = ? AND idempotent_token = ?', [
          image.ownerId,
          idempotentToken,
        ]);
  const before = await existing();
  if (before) return { id: String(before.id), created: false };
  try {
    await db.run(
      `INSERT INTO images (id, owner_id, name, description, platform, kind, source, archive, ecs_image_id,
         idempotent_token, created_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        image.id,
        image.ownerId,
        image.name,
        image.description,
        image.platform,
        image.kind,
        image.source,
        image.archive,
        image.ecsImageId,
        idempotentToken,
        image.createdAtUs,
      ],
    );
    return { id: image.id, created: true };
  } catch (err) {
    // Two creates with one token raced: the loser answers with the winner's id.
    const winner = isUniqueViolation(err) ? await existing() : undefined;
    if (!winner) throw err;
    return { id: String(winner.id), created: false };
  }
}

export async function getImage(db: SqlDriver, id: string): Promise<ImageRecord | undefined> {
  const row = await queryOne(db, 'SELECT * FROM images WHERE id = ?', [id]);
  return row ? imageRecord(row) : undefined;
}

export async function listImages(db: SqlDriver, query: ListImagesQuery): Promise<Page<ImageRecord>> {
  const owner = query.ownerId === undefined ? '' : ' AND owner_id = ?';
  const params: SqlValue[] = [query.marker ?? ''];
  if (query.ownerId !== undefined) params.push(query.ownerId);
  params.push(query.limit + 1);
  const rows = await db.query(`SELECT * FROM images WHERE id > ?${owner} ORDER BY id LIMIT ?`, params);
  const items = rows.slice(0, query.limit).map(imageRecord);
  return { items, nextMarker: rows.length > query.limit ? items[items.length - 1]!.id : '' };
}

export async function deleteImage(db: SqlDriver, id: string): Promise<boolean> {
  return (await db.run('DELETE FROM images WHERE id = ?', [id])) > 0;
}
