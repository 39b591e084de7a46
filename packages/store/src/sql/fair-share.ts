/**
 * Fair share within a priority: when several owners have work queued on a cluster, a claim takes their
 * queued instances in turns, the owner with the fewest instances running (counting what this claim took)
 * first and, between equals, not the one served last on the cluster, instead of draining the oldest job
 * before looking at anyone else's. Higher priority still goes first, whoever owns it; one owner's own
 * work keeps its queue order. The last-served owner is this store's memory (per cluster): servers sharing
 * a database each take turns of their own.
 */
import type { Row, SqlDriver, SqlValue } from '../driver.js';

/** Owners with work queued on the cluster: one index seek per owner (a loose index scan). */
export async function queuedOwners(tx: SqlDriver, clusterId: string): Promise<number[]> {
  const rows = await tx.query(
    `WITH RECURSIVE o(id) AS (
       SELECT MIN(owner_id) FROM queue WHERE cluster_id = ?
       UNION ALL
       SELECT (SELECT MIN(owner_id) FROM queue WHERE cluster_id = ? AND owner_id > o.id) FROM o WHERE o.id IS NOT NULL
     )
     SELECT id FROM o WHERE id IS NOT NULL LIMIT 10000`,
    [clusterId, clusterId],
  );
  return rows.map((r) => Number(r.id));
}

const ORDER = 'ORDER BY priority DESC, job_seq, task_order, instance_id';

/**
 * One instance a claim may take: a queue row's `instance_id + offset`. A row spans `span` instances (a
 * task's fresh ones are one row); a claim takes them from its front, so `origin` names the row.
 */
export interface QueueUnit {
  readonly jobId: string;
  readonly taskName: string;
  readonly instanceId: number;
  readonly origin: number;
  readonly span: number;
  readonly priority: number;
  readonly jobSeq: number;
  readonly ownerId: number;
}

/** Queue rows as instances, in order, at most `want`: a row of a million yields only what is asked. */
function unitsOf(rows: readonly Row[], want: number): QueueUnit[] {
  const out: QueueUnit[] = [];
  for (const row of rows) {
    const span = Number(row.span);
    const origin = Number(row.instance_id);
    for (let k = 0; k < span && out.length < want; k++)
      out.push({
        jobId: String(row.job_id),
        taskName: String(row.task_name),
        instanceId: origin + k,
        origin,
        span,
        priority: Number(row.priority),
        jobSeq: Number(row.job_seq),
        ownerId: Number(row.owner_id),
      });
    if (out.length >= want) break;
  }
  return out;
}

/**
 * Up to `want` queued instances of the cluster in claim order: queue order for one owner, turns between
 * owners at the same priority for several. `where` and `params` leave out what is capped.
 */
export async function claimOrder(
  tx: SqlDriver,
  clusterId: string,
  where: string,
  params: readonly SqlValue[],
  want: number,
  lock: string,
  excludedOwners: ReadonlySet<number>,
  runningOf: (owner: number) => Promise<number>,
  turns: Map<string, number>,
): Promise<QueueUnit[]> {
  const owners = (await queuedOwners(tx, clusterId)).filter((o) => !excludedOwners.has(o));
  const columns = 'job_id, task_name, instance_id, span, priority, job_seq, owner_id';
  if (owners.length <= 1)
    return unitsOf(
      await tx.query(`SELECT ${columns} FROM queue WHERE cluster_id = ?${where} ${ORDER} LIMIT ?${lock}`, [
        clusterId,
        ...params,
        want,
      ]),
      want,
    );
  const heads = new Map<number, QueueUnit[]>();
  const load = new Map<number, number>();
  for (const owner of owners) {
    heads.set(
      owner,
      unitsOf(
        await tx.query(
          `SELECT ${columns} FROM queue WHERE cluster_id = ? AND owner_id = ?${where} ${ORDER} LIMIT ?${lock}`,
          [clusterId, owner, ...params, want],
        ),
        want,
      ),
    );
    load.set(owner, await runningOf(owner));
  }
  const out: QueueUnit[] = [];
  let last = turns.get(clusterId);
  /** Sort key of an owner's next row: priority first, then load, then whose turn it is, then age. */
  const key = (owner: number, unit: QueueUnit): number[] => [
    -unit.priority,
    load.get(owner)!,
    owner === last ? 1 : 0,
    unit.jobSeq,
  ];
  const before = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
    return false;
  };
  while (out.length < want) {
    let pick: number | undefined;
    let best: number[] | undefined;
    for (const [owner, rows] of heads) {
      const next = rows[0];
      if (!next) continue;
      const k = key(owner, next);
      if (!best || before(k, best)) {
        pick = owner;
        best = k;
      }
    }
    if (pick === undefined) break;
    out.push(heads.get(pick)!.shift()!);
    load.set(pick, load.get(pick)! + 1);
    last = pick;
  }
  if (last !== undefined) turns.set(clusterId, last);
  return out;
}
