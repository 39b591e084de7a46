/**
 * AutoCluster in the store: tasks that name no cluster wait on AUTO_CLUSTER_PENDING (no worker claims
 * there); once runnable, a task is moved with its queued instances onto the cluster made for it, in the
 * transaction that creates that cluster. When the task has ended the cluster is deleted and the task
 * waits on AUTO_CLUSTER_PENDING again, so a restart of its job gets a new one.
 */
import type { AutoClusterCandidate, ClusterRecord } from '@shoal/core';
import { AUTO_CLUSTER_PENDING } from '@shoal/core';
import type { SqlDriver } from '../driver.js';
import { deleteClusterIn, insertCluster } from './clusters.js';
import type { TaskSpecCache } from './task-spec-cache.js';

export async function listAutoClusterCandidates(
  db: SqlDriver,
  specs: TaskSpecCache,
  limit: number,
): Promise<AutoClusterCandidate[]> {
  // Runnable = some instance is queued; tasks still waiting for their predecessors get nothing yet.
  const rows = await db.query(
    `SELECT t.job_id, t.name, t.spec_json, j.owner_id FROM tasks t JOIN jobs j ON j.id = t.job_id
     WHERE t.cluster_id = ? AND t.state IN ('Waiting', 'Running')
       AND EXISTS (SELECT 1 FROM queue q WHERE q.job_id = t.job_id AND q.task_name = t.name)
     ORDER BY j.seq, t.task_order LIMIT ?`,
    [AUTO_CLUSTER_PENDING, limit],
  );
  return rows.map((row) => ({
    jobId: String(row.job_id),
    taskName: String(row.name),
    ownerId: Number(row.owner_id),
    task: specs.fromRow(row),
  }));
}

export function moveClusterTasks(db: SqlDriver, from: string, to: string): Promise<number> {
  return db.transaction(async (tx) => {
    const moved = await tx.run('UPDATE tasks SET cluster_id = ? WHERE cluster_id = ?', [to, from]);
    await tx.run('UPDATE queue SET cluster_id = ? WHERE cluster_id = ?', [to, from]);
    return moved;
  });
}

export function createAutoCluster(db: SqlDriver, cluster: ClusterRecord): Promise<boolean> {
  const auto = cluster.autoFor;
  if (!auto) throw new TypeError('an AutoCluster record names its task (autoFor)');
  return db.transaction(async (tx) => {
    // Moved by another server meanwhile, or ended: nothing to create.
    const moved = await tx.run(
      `UPDATE tasks SET cluster_id = ? WHERE job_id = ? AND name = ? AND cluster_id = ?
         AND state IN ('Waiting', 'Running')`,
      [cluster.id, auto.jobId, auto.taskName, AUTO_CLUSTER_PENDING],
    );
    if (!moved) return false;
    await insertCluster(tx, cluster, null);
    await tx.run('UPDATE queue SET cluster_id = ? WHERE job_id = ? AND task_name = ?', [
      cluster.id,
      auto.jobId,
      auto.taskName,
    ]);
    return true;
  });
}

export function releaseAutoCluster(db: SqlDriver, cluster: ClusterRecord): Promise<boolean> {
  const auto = cluster.autoFor;
  if (!auto) throw new TypeError('not an AutoCluster');
  return db.transaction(async (tx) => {
    await tx.run(
      `UPDATE tasks SET cluster_id = ? WHERE job_id = ? AND name = ? AND cluster_id = ?
         AND state NOT IN ('Waiting', 'Running')`,
      [AUTO_CLUSTER_PENDING, auto.jobId, auto.taskName, cluster.id],
    );
    return (await deleteClusterIn(tx, cluster.id)).deleted;
  });
}
