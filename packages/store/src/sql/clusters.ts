/**
 * Clusters and their workers. A cluster is one row (its description as JSON, as the API shows it); its
 * workers are the rows of `workers` with its id, each in one group.
 */
import type {
  ClusterRecord,
  ClusterSpec,
  ListClustersQuery,
  ListWorkersQuery,
  Page,
  WorkerRecord,
  WorkerTokenRecord,
} from '@shoal/core';
import type { Row, SqlDriver, SqlValue } from '../driver.js';
import { queryOne } from '../driver.js';
import { isUniqueViolation } from './accounts.js';

function clusterRecord(row: Row): ClusterRecord {
  const spec = JSON.parse(String(row.spec_json)) as ClusterSpec;
  return {
    ...spec,
    id: String(row.id),
    ownerId: Number(row.owner_id),
    state: row.state === 'Deleting' ? 'Deleting' : 'Active',
    createdAtUs: Number(row.created_us),
  };
}

function specJson(c: ClusterRecord): string {
  const { id: _id, ownerId: _owner, state: _state, createdAtUs: _created, ...spec } = c;
  return JSON.stringify(spec);
}

export function workerRecord(row: Row): WorkerRecord {
  return {
    id: String(row.id),
    clusterId: String(row.cluster_id),
    groupName: String(row.group_name ?? ''),
    hostname: String(row.hostname),
    slots: Number(row.slots),
    cpuMillis: Number(row.cpu_millis ?? 0),
    memoryBytes: Number(row.memory_bytes ?? 0),
    state: row.state === 'Deleting' ? 'Deleting' : 'Running',
    registeredAtUs: Number(row.registered_us),
    heartbeatAtUs: Number(row.heartbeat_us),
  };
}

export async function createCluster(
  db: SqlDriver,
  cluster: ClusterRecord,
  idempotentToken: string | null,
): Promise<{ id: string; created: boolean }> {
  const existing = async () =>
    idempotentToken === null
      ? undefined
      : queryOne(db, 'SELECT id FROM clusters WHERE owner_id = ? AND idempotent_token = ?', [
          cluster.ownerId,
          idempotentToken,
        ]);
  const before = await existing();
  if (before) return { id: String(before.id), created: false };
  try {
    await insertCluster(db, cluster, idempotentToken);
    return { id: cluster.id, created: true };
  } catch (err) {
    // Two creates with one token raced: the loser answers with the winner's id.
    const winner = isUniqueViolation(err) ? await existing() : undefined;
    if (!winner) throw err;
    return { id: String(winner.id), created: false };
  }
}

export async function insertCluster(
  db: SqlDriver,
  cluster: ClusterRecord,
  idempotentToken: string | null,
): Promise<void> {
  await db.run(
    `INSERT INTO clusters (id, owner_id, name, state, spec_json, idempotent_token, created_us)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [
      cluster.id,
      cluster.ownerId,
      cluster.name,
      cluster.state,
      specJson(cluster),
      idempotentToken,
      cluster.createdAtUs,
    ],
  );
}

/** Writes a cluster's description and state, creating the row if there is none (the default cluster). */
export async function putCluster(db: SqlDriver, cluster: ClusterRecord): Promise<void> {
  await db.run(
    `INSERT INTO clusters (id, owner_id, name, state, spec_json, idempotent_token, created_us)
     VALUES (?, ?, ?, ?, ?, NULL, ?)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, state = excluded.state, spec_json = excluded.spec_json`,
    [cluster.id, cluster.ownerId, cluster.name, cluster.state, specJson(cluster), cluster.createdAtUs],
  );
}

export async function getCluster(db: SqlDriver, id: string): Promise<ClusterRecord | undefined> {
  const row = await queryOne(db, 'SELECT * FROM clusters WHERE id = ?', [id]);
  return row ? clusterRecord(row) : undefined;
}

export async function listClusters(db: SqlDriver, query: ListClustersQuery): Promise<Page<ClusterRecord>> {
  const params: SqlValue[] = [query.marker ?? ''];
  let owners = '';
  if (query.ownerIds) {
    owners = ` AND owner_id IN (${query.ownerIds.map(() => '?').join(', ')})`;
    params.push(...query.ownerIds);
  }
  params.push(query.limit + 1);
  const rows = await db.query(`SELECT * FROM clusters WHERE id > ?${owners} ORDER BY id LIMIT ?`, params);
  const items = rows.slice(0, query.limit).map(clusterRecord);
  return { items, nextMarker: rows.length > query.limit ? items[items.length - 1]!.id : '' };
}

/**
 * Deletes a cluster and its workers' rows, unless a task that has not ended still runs on it: then
 * nothing changes and the job of such a task is returned.
 */
export async function deleteCluster(
  db: SqlDriver,
  id: string,
): Promise<{ deleted: boolean; busyJobId?: string }> {
  return db.transaction((tx) => deleteClusterIn(tx, id));
}

/** deleteCluster within a transaction the caller holds. */
export async function deleteClusterIn(
  tx: SqlDriver,
  id: string,
): Promise<{ deleted: boolean; busyJobId?: string }> {
  const busy = await queryOne(
    tx,
    "SELECT job_id FROM tasks WHERE cluster_id = ? AND state IN ('Waiting', 'Running') LIMIT 1",
    [id],
  );
  if (busy) return { deleted: false, busyJobId: String(busy.job_id) };
  await tx.run('DELETE FROM workers WHERE cluster_id = ?', [id]);
  await tx.run('DELETE FROM worker_tokens WHERE cluster_id = ?', [id]);
  return { deleted: (await tx.run('DELETE FROM clusters WHERE id = ?', [id])) > 0 };
}

export async function listWorkers(db: SqlDriver, query: ListWorkersQuery): Promise<Page<WorkerRecord>> {
  const params: SqlValue[] = [query.clusterId, query.marker ?? ''];
  let group = '';
  if (query.groupName !== undefined) {
    group = ' AND group_name = ?';
    params.push(query.groupName);
  }
  params.push(query.limit + 1);
  const rows = await db.query(
    `SELECT * FROM workers WHERE cluster_id = ? AND id > ?${group} ORDER BY id LIMIT ?`,
    params,
  );
  const items = rows.slice(0, query.limit).map(workerRecord);
  return { items, nextMarker: rows.length > query.limit ? items[items.length - 1]!.id : '' };
}

export async function getWorker(db: SqlDriver, id: string): Promise<WorkerRecord | undefined> {
  const row = await queryOne(db, 'SELECT * FROM workers WHERE id = ?', [id]);
  return row ? workerRecord(row) : undefined;
}

export async function setWorkerState(
  db: SqlDriver,
  id: string,
  state: 'Running' | 'Deleting',
): Promise<boolean> {
  return (await db.run('UPDATE workers SET state = ? WHERE id = ?', [state, id])) > 0;
}

export async function deleteWorker(db: SqlDriver, id: string): Promise<boolean> {
  return (await db.run('DELETE FROM workers WHERE id = ?', [id])) > 0;
}

function tokenRecord(row: Row): WorkerTokenRecord {
  return {
    id: String(row.id),
    clusterId: String(row.cluster_id),
    ownerId: Number(row.owner_id),
    secretHash: String(row.secret_hash),
    createdAtUs: Number(row.created_us),
  };
}

export async function createWorkerToken(db: SqlDriver, t: WorkerTokenRecord): Promise<void> {
  await db.run(
    'INSERT INTO worker_tokens (id, cluster_id, owner_id, secret_hash, created_us) VALUES (?, ?, ?, ?, ?)',
    [t.id, t.clusterId, t.ownerId, t.secretHash, t.createdAtUs],
  );
}

export async function getWorkerToken(db: SqlDriver, id: string): Promise<WorkerTokenRecord | undefined> {
  const row = await queryOne(db, 'SELECT * FROM worker_tokens WHERE id = ?', [id]);
  return row ? tokenRecord(row) : undefined;
}

export async function listWorkerTokens(db: SqlDriver, clusterId: string): Promise<WorkerTokenRecord[]> {
  const rows = await db.query('SELECT * FROM worker_tokens WHERE cluster_id = ? ORDER BY created_us, id', [
    clusterId,
  ]);
  return rows.map(tokenRecord);
}

export async function deleteWorkerToken(db: SqlDriver, id: string): Promise<boolean> {
  return (await db.run('DELETE FROM worker_tokens WHERE id = ?', [id])) > 0;
}

export async function clusterDemand(db: SqlDriver, clusterId: string): Promise<number> {
  const queued = await queryOne(db, 'SELECT COALESCE(SUM(span), 0) AS n FROM queue WHERE cluster_id = ?', [
    clusterId,
  ]);
  const running = await queryOne(
    db,
    `SELECT COUNT(*) AS n FROM instances i JOIN workers w ON w.id = i.worker_id
     WHERE w.cluster_id = ? AND i.state = 'Running'`,
    [clusterId],
  );
  return Number(queued?.n ?? 0) + Number(running?.n ?? 0);
}

/**
 * Writes `next` over the cluster only if it still is `expected` (as read): a round working from a copy
 * neither brings back a cluster deleted meanwhile nor undoes its owner's change.
 */
export async function replaceCluster(
  db: SqlDriver,
  expected: ClusterRecord,
  next: ClusterRecord,
): Promise<boolean> {
  const changed = await db.run(
    "UPDATE clusters SET spec_json = ? WHERE id = ? AND spec_json = ? AND state = 'Active'",
    [specJson(next), expected.id, specJson(expected)],
  );
  return changed > 0;
}

/** Attempts running on each worker, from the partial index of running instances (instances_running). */
export async function runningOnWorkers(
  db: SqlDriver,
  workerIds: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (workerIds.length === 0) return out;
  const rows = await db.query(
    `SELECT worker_id, COUNT(*) AS n FROM instances
     WHERE state = 'Running' AND worker_id IN (${workerIds.map(() => '?').join(', ')}) GROUP BY worker_id`,
    workerIds,
  );
  for (const row of rows) out.set(String(row.worker_id), Number(row.n));
  return out;
}
