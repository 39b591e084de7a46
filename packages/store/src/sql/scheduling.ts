/**
 * The worker side of the store: claiming queued instances under a lease, recording ended attempts,
 * renewing leases, and re-queuing work cut off by a lost worker.
 */
import type { AttemptResult, ClaimedAttempt, ClaimLimits, HeldInstance, WorkerRecord } from '@shoal/core';
import { attemptSucceeded, judgeAttempt } from '@shoal/core';
import { updateStatement } from '../deferred-writes.js';
import type { Row, SqlDriver } from '../driver.js';
import { queryOne } from '../driver.js';
import { Admission, taskSpecOf } from './admission.js';
import type { TaskTake } from './attempt-rows.js';
import {
  ATTEMPT_COLUMNS,
  ATTEMPT_ENDED,
  INSTANCE_ENDED,
  insertFresh,
  instanceKey,
  LEASE_RENEWED,
  LEASES_PER_STATEMENT,
  readReported,
  startAgain,
  text,
  usageValue,
} from './attempt-rows.js';
import { appendEvent, eventName } from './events.js';
import type { AttemptKey } from './mappers.js';
import { attemptIdOf, parseAttemptId } from './mappers.js';
import type { JobContext } from './progress.js';
import {
  enqueueInstance,
  haltJob,
  loadJobContext,
  loadJobContexts,
  ownerRunningCount,
  shiftCounts,
  TaskDeltas,
  adjustTask,
} from './progress.js';
import type { QueueUnit } from './fair-share.js';
import { claimOrder } from './fair-share.js';
import type { TaskSpecCache } from './task-spec-cache.js';

/** Removes `n` instances from the front of the queue row `unit` came from. */
async function takeFromQueue(tx: SqlDriver, unit: QueueUnit, n: number): Promise<void> {
  const key = [unit.jobId, unit.taskName, unit.origin];
  if (n >= unit.span)
    await tx.run('DELETE FROM queue WHERE job_id = ? AND task_name = ? AND instance_id = ?', key);
  else
    await tx.run(
      'UPDATE queue SET instance_id = instance_id + ?, span = span - ? WHERE job_id = ? AND task_name = ? AND instance_id = ?',
      [n, n, ...key],
    );
}

/** Rounds of candidates a claim looks through when caps leave some out. */
const ADMISSION_ROUNDS = 8;
/** Extra candidates a round fetches once something was left out. */
const ROUND_SLACK = 32;

export async function claimAttempts(
  db: SqlDriver,
  specs: TaskSpecCache,
  workerId: string,
  max: number,
  nowUs: number,
  leaseUntilUs: number,
  limits?: ClaimLimits,
  turns: Map<string, number> = new Map(),
  ahead = 0,
): Promise<ClaimedAttempt[]> {
  return (await claimOrReport(db, specs, workerId, max, nowUs, leaseUntilUs, limits, turns, true, ahead))
    .claimed;
}

/**
 * A claim, and whether it found only rows other claims hold (PostgreSQL; `lockedOut`). With `mayWait` it
 * waits for them once instead: only a transaction holding no lock yet may (not one that finished attempts
 * first: that is a lock cycle), so a claim inside an exchange says so and the exchange claims again alone.
 */
export async function claimOrReport(
  db: SqlDriver,
  specs: TaskSpecCache,
  workerId: string,
  max: number,
  nowUs: number,
  leaseUntilUs: number,
  limits: ClaimLimits | undefined,
  turns: Map<string, number>,
  mayWait: boolean,
  ahead = 0,
): Promise<{ claimed: ClaimedAttempt[]; lockedOut: boolean }> {
  if (max <= 0) return { claimed: [], lockedOut: false };
  return db.transaction(async (tx) => {
    // Several servers may share one PostgreSQL: SKIP LOCKED lets each claim different rows without waiting.
    const lock = tx.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    /** Whether any queue row was seen (and maybe locked) in this claim. */
    let seen = false;
    /** The next round waits for locked rows (once per claim). */
    let waitNext = false;
    let waited = false;
    let lockedOut = false;
    // A worker takes work of its own cluster only; one that is leaving (Deleting) takes none.
    const worker = await queryOne(
      tx,
      'SELECT cluster_id, state, cpu_millis, memory_bytes FROM workers WHERE id = ?',
      [workerId],
    );
    if (!worker || worker.state !== 'Running') return { claimed: [], lockedOut: false };
    const admission = new Admission(tx, specs, limits);
    admission.useWorker(workerId, Number(worker.cpu_millis ?? 0), Number(worker.memory_bytes ?? 0));
    const units: QueueUnit[] = [];
    let full = false;
    for (let round = 0; round < ADMISSION_ROUNDS && units.length < max && !full; round++) {
      const skippedBefore = admission.cappedTasks.size + admission.cappedOwners.size;
      // A few more than wanted when something was left out before, so capped work at the head of the
      // queue costs rounds of one query each rather than a claim that comes back empty.
      const fetch = max - units.length + (skippedBefore ? ROUND_SLACK : 0);
      const { sql, params } = admission.exclusions();
      const batch = await claimOrder(
        tx,
        String(worker.cluster_id),
        `${sql} AND not_before_us <= ?`,
        [...params, nowUs],
        fetch,
        waitNext ? ' FOR UPDATE' : lock,
        admission.cappedOwners,
        (owner) => ownerRunningCount(tx, owner),
        turns,
      );
      /** Per queue row, how many instances this round took from its front. */
      const taken = new Map<string, { unit: QueueUnit; n: number }>();
      /** Rows one of whose instances was refused: the rest of the row waits too (a row is taken from its front). */
      const refused = new Set<string>();
      for (const unit of batch) {
        if (units.length >= max) break;
        const rowKey = `${unit.jobId}\u0000${unit.taskName}\u0000${unit.origin}`;
        if (refused.has(rowKey)) continue;
        admission.knowOwner(unit.jobId, unit.ownerId);
        // The first `max - ahead` fill free slots; the rest are claimed ahead.
        const verdict = await admission.admit(unit.jobId, unit.taskName, units.length >= max - ahead);
        if (verdict === 'full') {
          full = true;
          break;
        }
        if (verdict !== 'yes') {
          refused.add(rowKey);
          continue;
        }
        units.push(unit);
        const entry = taken.get(rowKey) ?? { unit, n: 0 };
        entry.n++;
        taken.set(rowKey, entry);
      }
      // Out of the queue before the next round looks: it must not see (and count) them again.
      for (const { unit, n } of taken.values()) await takeFromQueue(tx, unit, n);
      // Look again, past what is capped, only if something was left out of a full batch.
      const skipped = admission.cappedTasks.size + admission.cappedOwners.size > skippedBefore;
      if (batch.length) seen = true;
      waitNext = false;
      // Nothing came back, yet work is queued: other claims hold it, most likely one task's fresh range
      // (a single row) another server is taking from. Wait for it, once, rather than come back empty;
      // nothing was admitted and this transaction holds no lock yet (mayWait), so no cycle can form.
      if (!seen && lock !== '' && !waited && (await anyQueued(tx, String(worker.cluster_id), nowUs))) {
        if (!mayWait) {
          lockedOut = true;
          break;
        }
        waitNext = waited = true;
        continue;
      }
      if (full || !skipped || batch.length < fetch) break;
    }
    const claimed: ClaimedAttempt[] = [];
    const perTask = new Map<string, TaskTake>();
    for (const { jobId, taskName, instanceId } of units) {
      const key = `${jobId}\u0000${taskName}`;
      let entry = perTask.get(key);
      if (!entry) {
        const row = await queryOne(tx, 'SELECT fresh_from FROM tasks WHERE job_id = ? AND name = ?', [
          jobId,
          taskName,
        ]);
        const freshFrom = Number(row?.fresh_from ?? 0);
        entry = {
          job: jobId,
          task: taskName,
          n: 0,
          firstFresh: freshFrom,
          freshFrom,
          fresh: [],
          started: new Map(),
        };
        perTask.set(key, entry);
      }
      // Rows exist only below the fresh range, so what ran before is below where it began.
      if (instanceId >= entry.firstFresh) entry.fresh.push(instanceId);
    }
    // A fresh instance gets its row now, all of a task's in one statement.
    for (const entry of perTask.values()) await insertFresh(tx, entry, workerId, nowUs, leaseUntilUs);
    for (const { jobId, taskName, instanceId, priority } of units) {
      const entry = perTask.get(`${jobId}\u0000${taskName}`)!;
      // One that ran before starts its next attempt on its row.
      const attemptNo =
        instanceId >= entry.firstFresh
          ? entry.started.get(instanceId)
          : await startAgain(tx, jobId, taskName, instanceId, workerId, nowUs, leaseUntilUs);
      if (attemptNo === undefined) continue;
      await tx.insertLater('attempts', ATTEMPT_COLUMNS, [
        jobId,
        taskName,
        instanceId,
        attemptNo,
        workerId,
        'Running',
        nowUs,
      ]);
      await appendEvent(tx, nowUs, eventName('Instance', 'Running'), jobId, taskName, instanceId, 'Running', {
        Attempt: attemptNo,
        WorkerId: workerId,
      });
      const spec = await admission.spec(jobId, taskName);
      const ownerId = await admission.ownerOf(jobId);
      claimed.push({
        attemptId: attemptIdOf(jobId, taskName, instanceId, attemptNo),
        ownerId,
        jobId,
        taskName,
        instanceId,
        attemptNo,
        task: spec,
        priority,
      });
      entry.n++;
      if (instanceId >= entry.freshFrom) entry.freshFrom = instanceId + 1;
    }
    const contexts = new Map<string, JobContext | undefined>();
    for (const { job, task, n, freshFrom } of perTask.values()) {
      if (n === 0) continue;
      // The job's lock before the task's row (as finishing attempts takes them): the other order deadlocks
      // against a report of the same job on PostgreSQL.
      if (!contexts.has(job)) contexts.set(job, await loadJobContext(tx, job));
      const ctx = contexts.get(job);
      if (ctx) await adjustTask(tx, ctx, task, { waiting: -n, running: n }, nowUs, freshFrom);
      else
        await tx.run('UPDATE tasks SET fresh_from = ? WHERE job_id = ? AND name = ? AND fresh_from < ?', [
          freshFrom,
          job,
          task,
          freshFrom,
        ]);
    }
    return { claimed, lockedOut };
  });
}

/** Whether the cluster has claimable work queued, locked or not (a plain read takes no lock). */
async function anyQueued(tx: SqlDriver, clusterId: string, nowUs: number): Promise<boolean> {
  return (
    (await queryOne(tx, 'SELECT 1 AS one FROM queue WHERE cluster_id = ? AND not_before_us <= ? LIMIT 1', [
      clusterId,
      nowUs,
    ])) !== undefined
  );
}

function failureMessage(taskName: string, instanceId: number, result: AttemptResult): string {
  return `Instance ${taskName}.${instanceId} failed: ${result.errorMessage || result.errorCode}`;
}

export function finishAttempts(
  db: SqlDriver,
  specs: TaskSpecCache,
  workerId: string,
  results: readonly AttemptResult[],
  nowUs: number,
): Promise<void> {
  if (results.length === 0) return Promise.resolve();
  return db.transaction(async (tx) => {
    const reported: { result: AttemptResult; key: AttemptKey }[] = [];
    const seen = new Set<string>();
    for (const result of results) {
      const key = parseAttemptId(result.attemptId);
      // A result sent twice in one report counts once: the instances are read once, for all of them.
      if (!key || seen.has(result.attemptId)) continue;
      seen.add(result.attemptId);
      reported.push({ result, key });
    }
    // The job locks come first (see loadJobContext), in one order for every report (two reports spanning
    // the same jobs must not deadlock), then their instances are read under them.
    const jobs = await loadJobContexts(
      tx,
      reported.map((r) => r.key.jobId),
    );
    const instances = await readReported(
      tx,
      reported.map((r) => r.key),
    );
    // Counter changes add up per task and are applied once, after all of the batch is recorded (those of a
    // job that halts, before it halts).
    const deltas = new TaskDeltas();
    for (const { result, key } of reported) {
      const { jobId, taskName, instanceId, attemptNo } = key;
      const job = jobs.get(jobId);
      const instance = instances.get(instanceKey(jobId, taskName, instanceId));
      const current =
        job !== undefined &&
        instance !== undefined &&
        instance.state === 'Running' &&
        Number(instance.attempt_count) === attemptNo &&
        instance.worker_id === workerId;
      // A failure's fate may hang on the task's retry rules (and its retry wait); a success needs no spec.
      const failedSpec =
        current && !attemptSucceeded(result) ? await taskSpecOf(tx, specs, jobId, taskName) : undefined;
      const verdict = current
        ? judgeAttempt(
            result,
            Number(instance.retry_count),
            Number(instance.max_retry_count),
            failedSpec?.retryRules,
          )
        : undefined;
      await tx.updateLater(ATTEMPT_ENDED, [
        jobId,
        taskName,
        instanceId,
        attemptNo,
        workerId,
        verdict === 'Finished' ? 'Finished' : verdict ? 'Failed' : 'Stopped',
        result.endedAtUs,
        result.exitCode,
        result.signal,
        Math.round(result.durationMs),
        text(result.errorCode, 100),
        text(result.errorMessage),
        usageValue(result.usage?.cpuMs),
        usageValue(result.usage?.peakMemoryBytes),
      ]);
      if (!verdict || !job) continue; // stale: the instance moved on (stopped, re-queued after a lost lease)
      const next = verdict === 'Retry' ? 'Waiting' : verdict;
      await tx.updateLater(INSTANCE_ENDED, [
        jobId,
        taskName,
        instanceId,
        attemptNo,
        next,
        next === 'Waiting' ? null : result.endedAtUs,
        result.exitCode,
        text(result.errorCode, 100),
        text(result.errorMessage),
        text(result.detail),
        verdict === 'Retry' ? 1 : 0,
        usageValue(result.usage?.cpuMs),
        usageValue(result.usage?.peakMemoryBytes),
      ]);
      await appendEvent(tx, nowUs, eventName('Instance', next), jobId, taskName, instanceId, next, {
        Attempt: attemptNo,
        ExitCode: result.exitCode,
        ErrorCode: text(result.errorCode, 100),
      });
      if (verdict === 'Retry') {
        const backoffUs = (failedSpec?.retryBackoffSec ?? 0) * 1_000_000;
        await enqueueInstance(tx, job, taskName, instanceId, backoffUs ? nowUs + backoffUs : 0);
        deltas.add(job, taskName, { running: -1, waiting: 1 });
      } else if (verdict === 'Finished') {
        deltas.add(job, taskName, { running: -1, finished: 1 });
      } else if (job.failOnInstanceFail) {
        // What the batch did to the job before counts first; then this one counts as failed (not settling
        // anything: halting settles the job once), and the rest stop.
        await deltas.apply(tx, nowUs, jobId);
        await shiftCounts(tx, jobId, taskName, { running: -1, failed: 1 });
        await haltJob(tx, job, 'Failed', nowUs, taskName, text(failureMessage(taskName, instanceId, result)));
        jobs.set(jobId, undefined);
      } else {
        deltas.add(job, taskName, { running: -1, failed: 1 });
      }
    }
    await deltas.apply(tx, nowUs);
  });
}

/**
 * Takes back attempts a worker claimed ahead and never started (it holds more than it will start soon):
 * each becomes Waiting again as if never claimed (its attempt row and number are undone, no retry or loss
 * is counted) and goes back into the queue, in its place by priority and submission. Attempts that are not
 * this worker's current ones are left alone. Returns the attempt ids taken back.
 */
export function returnAttempts(
  db: SqlDriver,
  workerId: string,
  attemptIds: readonly string[],
  nowUs: number,
): Promise<string[]> {
  if (attemptIds.length === 0) return Promise.resolve([]);
  return db.transaction(async (tx) => {
    const keys = attemptIds.map(parseAttemptId).filter((k): k is AttemptKey => k !== undefined);
    const jobs = await loadJobContexts(
      tx,
      keys.map((k) => k.jobId),
    );
    const deltas = new TaskDeltas();
    const returned: string[] = [];
    for (const { jobId, taskName, instanceId, attemptNo } of keys) {
      const job = jobs.get(jobId);
      if (!job) continue;
      const changed = await tx.run(
        `UPDATE instances SET state = 'Waiting', attempt_count = attempt_count - 1, started_us = NULL,
           worker_id = '', lease_until_us = NULL
         WHERE job_id = ? AND task_name = ? AND instance_id = ? AND state = 'Running' AND attempt_count = ?
           AND worker_id = ?`,
        [jobId, taskName, instanceId, attemptNo, workerId],
      );
      if (!changed) continue;
      await tx.run(
        'DELETE FROM attempts WHERE job_id = ? AND task_name = ? AND instance_id = ? AND attempt_no = ?',
        [jobId, taskName, instanceId, attemptNo],
      );
      await appendEvent(tx, nowUs, eventName('Instance', 'Waiting'), jobId, taskName, instanceId, 'Waiting', {
        Attempt: attemptNo,
        Reason: 'returned unstarted by its worker',
      });
      await enqueueInstance(tx, job, taskName, instanceId);
      deltas.add(job, taskName, { running: -1, waiting: 1 });
      returned.push(attemptIdOf(jobId, taskName, instanceId, attemptNo));
    }
    await deltas.apply(tx, nowUs);
    return returned;
  });
}

/**
 * Attempts a worker lost (it restarted, or its lease expired) beyond the retry budget by this many are
 * failed instead of re-queued: a command that keeps killing its worker must not loop for ever. Losses
 * within the allowance do not consume MaxRetryCount.
 */
export const LOST_ATTEMPT_ALLOWANCE = 3;

/** Re-queues Running instances (given as rows) whose attempt was cut off. */
async function requeueCutOff(tx: SqlDriver, rows: Row[], nowUs: number, reason: string): Promise<string[]> {
  const ids: string[] = [];
  for (const row of rows) {
    const jobId = String(row.job_id);
    const taskName = String(row.task_name);
    const instanceId = Number(row.instance_id);
    const attemptNo = Number(row.attempt_count);
    const job = await loadJobContext(tx, jobId);
    if (!job) continue;
    await tx.run(
      `UPDATE attempts SET state = 'Lost', ended_us = ?, error_code = 'WorkerLost', error_message = ?
       WHERE job_id = ? AND task_name = ? AND instance_id = ? AND attempt_no = ? AND state = 'Running'`,
      [nowUs, reason, jobId, taskName, instanceId, attemptNo],
    );
    const budget = Number(row.max_retry_count) + 1 + LOST_ATTEMPT_ALLOWANCE;
    const exhausted = attemptNo >= budget;
    const next = exhausted ? 'Failed' : 'Waiting';
    const changed = await tx.run(
      `UPDATE instances SET state = ?, lease_until_us = NULL, worker_id = '', ended_us = ?, error_code = ?, error_message = ?
       WHERE job_id = ? AND task_name = ? AND instance_id = ? AND state = 'Running' AND attempt_count = ?`,
      [
        next,
        exhausted ? nowUs : null,
        exhausted ? 'WorkerLost' : '',
        exhausted ? `${attemptNo} attempts were cut off (${reason}); giving up` : '',
        jobId,
        taskName,
        instanceId,
        attemptNo,
      ],
    );
    if (!changed) continue;
    ids.push(attemptIdOf(jobId, taskName, instanceId, attemptNo));
    await appendEvent(tx, nowUs, eventName('Instance', next), jobId, taskName, instanceId, next, {
      Attempt: attemptNo,
      Reason: reason,
    });
    if (!exhausted) {
      await enqueueInstance(tx, job, taskName, instanceId);
      await adjustTask(tx, job, taskName, { running: -1, waiting: 1 }, nowUs);
    } else if (job.failOnInstanceFail) {
      await shiftCounts(tx, jobId, taskName, { running: -1, failed: 1 });
      await haltJob(
        tx,
        job,
        'Failed',
        nowUs,
        taskName,
        `Instance ${taskName}.${instanceId} failed: ${attemptNo} attempts were cut off`,
      );
    } else {
      await adjustTask(tx, job, taskName, { running: -1, failed: 1 }, nowUs);
    }
  }
  return ids;
}

const CUT_OFF_COLUMNS = `i.job_id, i.task_name, i.instance_id, i.attempt_count, t.max_retry_count
  FROM instances i JOIN tasks t ON t.job_id = i.job_id AND t.name = i.task_name`;

export function releaseWorkerAttempts(
  db: SqlDriver,
  workerId: string,
  nowUs: number,
  reason = `worker ${workerId} restarted while the attempt ran`,
): Promise<string[]> {
  return db.transaction(async (tx) => {
    const rows = await tx.query(`SELECT ${CUT_OFF_COLUMNS} WHERE i.worker_id = ? AND i.state = 'Running'`, [
      workerId,
    ]);
    return requeueCutOff(tx, rows, nowUs, reason);
  });
}

export function releaseAttempts(
  db: SqlDriver,
  workerId: string,
  attemptIds: readonly string[],
  nowUs: number,
  reason: string,
): Promise<string[]> {
  return db.transaction(async (tx) => {
    const rows: Row[] = [];
    for (const attemptId of attemptIds) {
      const key = parseAttemptId(attemptId);
      if (!key) continue;
      rows.push(
        ...(await tx.query(
          `SELECT ${CUT_OFF_COLUMNS} WHERE i.job_id = ? AND i.task_name = ? AND i.instance_id = ?
             AND i.worker_id = ? AND i.state = 'Running' AND i.attempt_count = ?`,
          [key.jobId, key.taskName, key.instanceId, workerId, key.attemptNo],
        )),
      );
    }
    return requeueCutOff(tx, rows, nowUs, reason);
  });
}

export function expireLeases(db: SqlDriver, nowUs: number): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx.query(
      `SELECT ${CUT_OFF_COLUMNS} WHERE i.state = 'Running' AND i.lease_until_us < ?`,
      [nowUs],
    );
    return (await requeueCutOff(tx, rows, nowUs, 'the worker stopped renewing its lease')).length;
  });
}

/**
 * Extends the leases of the attempts the worker says it holds (running, or ended and not yet reported)
 * and returns those it must cancel. Attempts it does not mention are not renewed: if the worker lost
 * track of one, its lease runs out and the instance is re-queued.
 */
export function renewLeases(
  db: SqlDriver,
  workerId: string,
  attemptIds: readonly string[],
  nowUs: number,
  leaseUntilUs: number,
): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.run('UPDATE workers SET heartbeat_us = ? WHERE id = ?', [nowUs, workerId]);
    // One statement per many attempts: a worker holding attempts claimed ahead renews dozens at once, and
    // on PostgreSQL the row locks of a slow renewal would hold up its own next exchange.
    const keyed = attemptIds.map((id) => ({ id, key: parseAttemptId(id) }));
    const renewed = new Set<string>();
    const valid = keyed.filter((k): k is { id: string; key: AttemptKey } => k.key !== undefined);
    for (let i = 0; i < valid.length; i += LEASES_PER_STATEMENT) {
      const chunk = valid.slice(i, i + LEASES_PER_STATEMENT);
      const rows = await tx.query(
        `${updateStatement(LEASE_RENEWED, chunk.length)}
         RETURNING instances.job_id, instances.task_name, instances.instance_id, instances.attempt_count`,
        chunk.flatMap(({ key }) => [
          key.jobId,
          key.taskName,
          key.instanceId,
          key.attemptNo,
          workerId,
          leaseUntilUs,
        ]),
      );
      for (const row of rows)
        renewed.add(
          attemptIdOf(
            String(row.job_id),
            String(row.task_name),
            Number(row.instance_id),
            Number(row.attempt_count),
          ),
        );
    }
    return keyed
      .filter(
        ({ key }) =>
          !key || !renewed.has(attemptIdOf(key.jobId, key.taskName, key.instanceId, key.attemptNo)),
      )
      .map(({ id }) => id);
  });
}

export async function registerWorker(
  db: SqlDriver,
  worker: Omit<WorkerRecord, 'registeredAtUs' | 'heartbeatAtUs' | 'state'>,
  nowUs: number,
): Promise<void> {
  await db.run(
    `INSERT INTO workers (id, cluster_id, group_name, hostname, slots, state, registered_us, heartbeat_us,
       cpu_millis, memory_bytes)
     VALUES (?, ?, ?, ?, ?, 'Running', ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET cluster_id = excluded.cluster_id, group_name = excluded.group_name,
       hostname = excluded.hostname, slots = excluded.slots, state = 'Running',
       registered_us = excluded.registered_us, heartbeat_us = excluded.heartbeat_us,
       cpu_millis = excluded.cpu_millis, memory_bytes = excluded.memory_bytes`,
    [
      worker.id,
      worker.clusterId,
      worker.groupName,
      worker.hostname,
      worker.slots,
      nowUs,
      nowUs,
      Math.round(worker.cpuMillis ?? 0),
      Math.round(worker.memoryBytes ?? 0),
    ],
  );
}

/** The attempts a worker holds now (its instances Running on it), with their tasks and owners. */
export async function listHeldAttempts(
  db: SqlDriver,
  specs: TaskSpecCache,
  workerId: string,
  of?: HeldInstance,
): Promise<ClaimedAttempt[]> {
  const rows = await db.query(
    `SELECT i.job_id, i.task_name, i.instance_id, i.attempt_count, t.name, t.spec_json, j.owner_id, j.priority
     FROM instances i JOIN tasks t ON t.job_id = i.job_id AND t.name = i.task_name
       JOIN jobs j ON j.id = i.job_id
     WHERE i.worker_id = ? AND i.state = 'Running'${of ? ' AND i.job_id = ? AND i.task_name = ? AND i.instance_id = ?' : ''}`,
    of ? [workerId, of.jobId, of.taskName, of.instanceId] : [workerId],
  );
  return rows.map((row) => {
    const jobId = String(row.job_id);
    const taskName = String(row.task_name);
    const instanceId = Number(row.instance_id);
    const attemptNo = Number(row.attempt_count);
    const task = specs.get(jobId, taskName) ?? specs.fromRow(row);
    return {
      attemptId: attemptIdOf(jobId, taskName, instanceId, attemptNo),
      ownerId: Number(row.owner_id),
      jobId,
      taskName,
      instanceId,
      attemptNo,
      task,
      priority: Number(row.priority),
    };
  });
}
