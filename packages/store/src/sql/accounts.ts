/** Users and their access keys. Secrets arrive sealed by the server; the store never interprets them. */
import type {
  AccessKeyInfo,
  AccessKeyLookup,
  AccessKeyRecord,
  ListUsersQuery,
  Page,
  UserRecord,
} from '@shoal/core';
import { ShoalError } from '@shoal/core';
import type { Row, SqlDriver } from '../driver.js';
import { queryOne } from '../driver.js';

export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

const USER_COLUMNS = `u.owner_id, u.name, u.created_us,
  (SELECT COUNT(*) FROM access_keys k WHERE k.owner_id = u.owner_id) AS key_count`;

function userRecord(row: Row): UserRecord {
  return {
    ownerId: Number(row.owner_id),
    name: String(row.name),
    createdAtUs: Number(row.created_us),
    keyCount: Number(row.key_count),
  };
}

export async function createUser(db: SqlDriver, name: string, nowUs: number): Promise<UserRecord> {
  try {
    await db.run('INSERT INTO users (name, created_us) VALUES (?, ?)', [name, nowUs]);
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ShoalError(
        'StateConflict',
        `User operation is invalid: a user named ${JSON.stringify(name)} already exists.`,
      );
    throw err;
  }
  const user = await getUser(db, name);
  if (!user) throw new Error(`user ${name} vanished right after it was created`);
  return user;
}

export async function getUser(db: SqlDriver, name: string): Promise<UserRecord | undefined> {
  const row = await queryOne(db, `SELECT ${USER_COLUMNS} FROM users u WHERE u.name = ?`, [name]);
  return row ? userRecord(row) : undefined;
}

export async function listUsers(db: SqlDriver, query: ListUsersQuery): Promise<Page<UserRecord>> {
  const rows = await db.query(
    `SELECT ${USER_COLUMNS} FROM users u WHERE u.name > ? ORDER BY u.name LIMIT ?`,
    [query.marker ?? '', query.limit + 1],
  );
  const items = rows.slice(0, query.limit).map(userRecord);
  return { items, nextMarker: rows.length > query.limit ? items[items.length - 1]!.name : '' };
}

export function deleteUser(db: SqlDriver, name: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const user = await queryOne(tx, 'SELECT owner_id FROM users WHERE name = ?', [name]);
    if (!user) return false;
    await tx.run('DELETE FROM access_keys WHERE owner_id = ?', [Number(user.owner_id)]);
    await tx.run('DELETE FROM users WHERE owner_id = ?', [Number(user.owner_id)]);
    return true;
  });
}

export async function putAccessKey(db: SqlDriver, key: AccessKeyRecord, nowUs: number): Promise<void> {
  await db.run(
    `INSERT INTO access_keys (id, secret, owner_id, disabled, created_us) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, owner_id = excluded.owner_id, disabled = excluded.disabled`,
    [key.id, key.secret, key.ownerId, key.disabled ? 1 : 0, nowUs],
  );
}

export async function createAccessKey(db: SqlDriver, key: AccessKeyRecord, nowUs: number): Promise<void> {
  try {
    await db.run(
      'INSERT INTO access_keys (id, secret, owner_id, disabled, created_us) VALUES (?, ?, ?, ?, ?)',
      [key.id, key.secret, key.ownerId, key.disabled ? 1 : 0, nowUs],
    );
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ShoalError(
        'StateConflict',
        `User operation is invalid: the access key ${key.id} already exists.`,
      );
    throw err;
  }
}

export async function getAccessKey(db: SqlDriver, id: string): Promise<AccessKeyLookup | undefined> {
  const row = await queryOne(
    db,
    `SELECT k.id, k.secret, k.owner_id, k.disabled, u.name AS owner_name
     FROM access_keys k LEFT JOIN users u ON u.owner_id = k.owner_id WHERE k.id = ?`,
    [id],
  );
  if (!row) return undefined;
  return {
    id: String(row.id),
    secret: String(row.secret),
    ownerId: Number(row.owner_id),
    disabled: Number(row.disabled) === 1,
    ownerName: row.owner_name === null || row.owner_name === undefined ? '' : String(row.owner_name),
  };
}

export async function listAccessKeys(db: SqlDriver, ownerId?: number): Promise<AccessKeyInfo[]> {
  const rows =
    ownerId === undefined
      ? await db.query('SELECT id, owner_id, disabled, created_us FROM access_keys ORDER BY created_us, id')
      : await db.query(
          'SELECT id, owner_id, disabled, created_us FROM access_keys WHERE owner_id = ? ORDER BY created_us, id',
          [ownerId],
        );
  return rows.map((row) => ({
    id: String(row.id),
    ownerId: Number(row.owner_id),
    disabled: Number(row.disabled) === 1,
    createdAtUs: Number(row.created_us),
  }));
}

export async function setAccessKeyState(db: SqlDriver, id: string, disabled: boolean): Promise<boolean> {
  return (await db.run('UPDATE access_keys SET disabled = ? WHERE id = ?', [disabled ? 1 : 0, id])) > 0;
}

export async function deleteAccessKey(db: SqlDriver, id: string): Promise<boolean> {
  return (await db.run('DELETE FROM access_keys WHERE id = ?', [id])) > 0;
}
