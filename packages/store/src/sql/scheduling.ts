/**
 * The worker side of the store: claiming queued instances under a lease, recording ended attempts,
 * renewing leases, and re-queuing work cut off by a lost worker.
 */
import type {
  AttemptResult,
  ClaimedAttempt,
  ClaimLimits,
  HeldInstance,
  TaskSpec,
  WorkerRecord,
} from '@shoal/core';
import { attemptSucceeded, judgeAttempt } from '@shoal/core';
import type { RowUpdate } from '../deferred-writes.js';
import { insertStatement, updateStatement } from '../deferred-writes.js';
import type { Row, SqlDriver, SqlValue } from '../driver.js';
import { queryOne } from '../driver.js';
import { appendEvent, eventName } from './events.js';
import type { AttemptKey } from './mappers.js';
import { attemptIdOf, parseAttemptId } from './mappers.js';
import type { JobContext } from './progress.js';
import {
  adjustTask,
  enqueueInstance,
  haltJob,
  loadJobContext,
  ownerRunningCount,
  ownerRunningTasks,
  shiftCounts,
  TaskDeltas,
} from './progress.js';
import type { QueueUnit } from './fair-share.js';
import { claimOrder } from './fair-share.js';
import type { TaskSpecCache } from './task-spec-cache.js';

/**
 * Which queued instances a claim may take, in queue order: those of a task below its
 * MaxRunningInstances, and of an owner below their running-instances quota. Capped ones stay queued.
 */
class Admission {
  private readonly taskRunning = new Map<string, number>();
  private readonly ownerRunning = new Map<number, number>();
  private readonly ownerCpu = new Map<number, number>();
  private readonly lockedOwners = new Set<number>();
  /** What the worker's machine has left, when it said what it holds. */
  private free: { cpuMillis: number; memoryBytes: number } | undefined;
  private capacity: { cpuMillis: number; memoryBytes: number } | undefined;
  private readonly jobOwners = new Map<string, number>();
  readonly cappedTasks = new Map<string, { jobId: string; taskName: string }>();
  readonly cappedOwners = new Set<number>();

  constructor(
    private readonly tx: SqlDriver,
    private readonly specs: TaskSpecCache,
    private readonly limits: ClaimLimits | undefined,
  ) {}

  async spec(jobId: string, taskName: string): Promise<TaskSpec> {
    const cached = this.specs.get(jobId, taskName);
    if (cached) return cached;
    const row = await queryOne(
      this.tx,
      'SELECT job_id, name, spec_json FROM tasks WHERE job_id = ? AND name = ?',
      [jobId, taskName],
    );
    return this.specs.fromRow(row!);
  }

  /** A job's owner as its queue rows carry it (it never changes): no query for it then. */
  knowOwner(jobId: string, ownerId: number): void {
    this.jobOwners.set(jobId, ownerId);
  }

  async ownerOf(jobId: string): Promise<number> {
    let owner = this.jobOwners.get(jobId);
    if (owner === undefined) {
      const job = await queryOne(this.tx, 'SELECT owner_id FROM jobs WHERE id = ?', [jobId]);
      owner = Number(job?.owner_id ?? 0);
      this.jobOwners.set(jobId, owner);
    }
    return owner;
  }

  /** Reads what the worker runs now against what its machine holds (cpu_millis, memory_bytes; 0 = not said). */
  async useWorker(workerId: string, cpuMillis: number, memoryBytes: number): Promise<void> {
    if (!this.limits?.demandOf || (cpuMillis <= 0 && memoryBytes <= 0)) return;
    const capacity = {
      cpuMillis: cpuMillis > 0 ? cpuMillis : Infinity,
      memoryBytes: memoryBytes > 0 ? memoryBytes : Infinity,
    };
    const free = { ...capacity };
    const rows = await this.tx.query(
      "SELECT job_id, task_name FROM instances WHERE worker_id = ? AND state = 'Running'",
      [workerId],
    );
    for (const row of rows) {
      const d = this.limits.demandOf(await this.spec(String(row.job_id), String(row.task_name)));
      free.cpuMillis -= d.cpuMillis;
      free.memoryBytes -= d.memoryBytes;
    }
    this.capacity = capacity;
    this.free = free;
  }

  /**
   * Whether one more instance of the task may start here ('yes', counted), not this task now ('no': it
   * stays queued, the claim looks past it), or nothing more at all ('full': the worker's machine has no
   * room for the next in line, and claiming smaller work past it would starve it).
   */
  async admit(jobId: string, taskName: string, ahead = false): Promise<'yes' | 'no' | 'full'> {
    const spec = await this.spec(jobId, taskName);
    const cap = spec.maxRunningInstances ?? 0;
    const key = `${jobId}\u0000${taskName}`;
    const demand = this.limits?.demandOf?.(spec);
    if (demand && this.capacity) {
      if (demand.cpuMillis > this.capacity.cpuMillis || demand.memoryBytes > this.capacity.memoryBytes) {
        // Its type never fits this machine: other workers of the cluster may take it.
        this.cappedTasks.set(key, { jobId, taskName });
        return 'no';
      }
    }
    if (ahead) return this.admitAhead(jobId, key, taskName, cap);
    if (cap > 0) {
      let running = this.taskRunning.get(key);
      if (running === undefined) {
        // Claims of other servers must not read the same count at once (PostgreSQL): the job's lock, which
        // every change rolling up to the job takes first anyway (loadJobContext), orders them.
        if (this.tx.dialect === 'postgres')
          await this.tx.query('SELECT id FROM jobs WHERE id = ? FOR UPDATE', [jobId]);
        const row = await queryOne(this.tx, 'SELECT running_count FROM tasks WHERE job_id = ? AND name = ?', [
          jobId,
          taskName,
        ]);
        running = Number(row?.running_count ?? 0);
        this.taskRunning.set(key, running);
      }
      if (running >= cap) {
        this.cappedTasks.set(key, { jobId, taskName });
        return 'no';
      }
    }
    const owner = await this.ownerOf(jobId);
    // Fit last: work that caps or quotas hold back must not block the machine for the work behind it.
    if (
      demand &&
      this.free &&
      (demand.cpuMillis > this.free.cpuMillis || demand.memoryBytes > this.free.memoryBytes)
    ) {
      // Only if the owner may run it at all; else it is passed over like capped work.
      if (!(await this.ownerAdmits(owner, demand.cpuMillis, false))) {
        this.cappedOwners.add(owner);
        return 'no';
      }
      return 'full';
    }
    if (!(await this.ownerAdmits(owner, demand?.cpuMillis ?? 0, true))) {
      this.cappedOwners.add(owner);
      return 'no';
    }
    if (cap > 0) this.taskRunning.set(key, this.taskRunning.get(key)! + 1);
    if (this.free && demand) {
      this.free.cpuMillis -= demand.cpuMillis;
      this.free.memoryBytes -= demand.memoryBytes;
    }
    return 'yes';
  }

  /**
   * Claimed beyond the worker's free slots, an attempt waits on the worker for room (which judges its fit
   * there) but counts as running at once: held back from capped tasks and limited owners, where it would
   * use up a running place that another worker could use now.
   */
  private async admitAhead(jobId: string, key: string, taskName: string, cap: number): Promise<'yes' | 'no'> {
    if (cap > 0) {
      this.cappedTasks.set(key, { jobId, taskName });
      return 'no';
    }
    const owner = await this.ownerOf(jobId);
    if (
      this.limits?.runningPerOwner(owner) !== undefined ||
      this.limits?.cpuPerOwner?.(owner) !== undefined
    ) {
      this.cappedOwners.add(owner);
      return 'no';
    }
    return 'yes';
  }

  /** The owner's running-instances and CPU quotas; with `count`, counts the instance in if admitted. */
  private async ownerAdmits(owner: number, cpuMillis: number, count: boolean): Promise<boolean> {
    const limit = this.limits?.runningPerOwner(owner);
    const cpuLimit = this.limits?.cpuPerOwner?.(owner);
    // Claims for one limited owner take turns on PostgreSQL (their user row's lock), so two servers
    // cannot both read "one below the quota".
    if (
      (limit !== undefined || cpuLimit !== undefined) &&
      this.tx.dialect === 'postgres' &&
      !this.lockedOwners.has(owner)
    ) {
      await this.tx.query('SELECT owner_id FROM users WHERE owner_id = ? FOR UPDATE', [owner]);
      this.lockedOwners.add(owner);
    }
    if (limit !== undefined) {
      let running = this.ownerRunning.get(owner);
      if (running === undefined) {
        running = await ownerRunningCount(this.tx, owner);
        this.ownerRunning.set(owner, running);
      }
      if (running >= limit) return false;
    }
    if (cpuLimit !== undefined && this.limits?.demandOf) {
      let used = this.ownerCpu.get(owner);
      if (used === undefined) {
        used = 0;
        for (const { task, running } of await ownerRunningTasks(this.tx, this.specs, owner))
          used += running * this.limits.demandOf(task).cpuMillis;
        this.ownerCpu.set(owner, used);
      }
      if (used + cpuMillis > cpuLimit) return false;
      if (count) this.ownerCpu.set(owner, used + cpuMillis);
    }
    if (limit !== undefined && count) this.ownerRunning.set(owner, this.ownerRunning.get(owner)! + 1);
    return true;
  }

  /** SQL that leaves out what is capped, and its parameters. */
  exclusions(): { sql: string; params: SqlValue[] } {
    const parts: string[] = [];
    const params: SqlValue[] = [];
    for (const t of this.cappedTasks.values()) {
      parts.push('NOT (job_id = ? AND task_name = ?)');
      params.push(t.jobId, t.taskName);
    }
    if (this.cappedOwners.size) {
      parts.push(`owner_id NOT IN (${[...this.cappedOwners].map(() => '?').join(', ')})`);
      params.push(...this.cappedOwners);
    }
    return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
  }
}

async function taskSpecOf(
  tx: SqlDriver,
  specs: TaskSpecCache,
  jobId: string,
  taskName: string,
): Promise<TaskSpec> {
  const cached = specs.get(jobId, taskName);
  if (cached) return cached;
  const row = await queryOne(tx, 'SELECT job_id, name, spec_json FROM tasks WHERE job_id = ? AND name = ?', [
    jobId,
    taskName,
  ]);
  return specs.fromRow(row!);
}

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

const ATTEMPT_COLUMNS = [
  'job_id',
  'task_name',
  'instance_id',
  'attempt_no',
  'worker_id',
  'state',
  'started_us',
];

/** What a claim takes of one task: its fresh instances and the attempt numbers they started with. */
interface TaskTake {
  readonly job: string;
  readonly task: string;
  n: number;
  /** Where the task's fresh range began when the claim looked. */
  readonly firstFresh: number;
  /** Where it begins after the claim. */
  freshFrom: number;
  readonly fresh: number[];
  readonly started: Map<number, number>;
}

const FRESH_COLUMNS = [
  'job_id',
  'task_name',
  'instance_id',
  'state',
  'attempt_count',
  'started_us',
  'worker_id',
  'lease_until_us',
];
const FRESH_ROWS_PER_STATEMENT = 64;

/** Gives the claimed fresh instances of one task their rows, Running their first attempt. */
async function insertFresh(
  tx: SqlDriver,
  take: TaskTake,
  workerId: string,
  nowUs: number,
  leaseUntilUs: number,
): Promise<void> {
  for (let i = 0; i < take.fresh.length; i += FRESH_ROWS_PER_STATEMENT) {
    const ids = take.fresh.slice(i, i + FRESH_ROWS_PER_STATEMENT);
    const rows = await tx.query(
      `${insertStatement('instances', FRESH_COLUMNS, ids.length)} ON CONFLICT DO NOTHING RETURNING instance_id, attempt_count`,
      ids.flatMap((id) => [take.job, take.task, id, 'Running', 1, nowUs, workerId, leaseUntilUs]),
    );
    for (const row of rows) take.started.set(Number(row.instance_id), Number(row.attempt_count));
  }
}

/** Starts the next attempt of an instance that ran before; its attempt number, or undefined if it moved on. */
async function startAgain(
  tx: SqlDriver,
  jobId: string,
  taskName: string,
  instanceId: number,
  workerId: string,
  nowUs: number,
  leaseUntilUs: number,
): Promise<number | undefined> {
  const updated = await queryOne(
    tx,
    `UPDATE instances SET state = 'Running', attempt_count = attempt_count + 1, started_us = ?, ended_us = NULL,
       worker_id = ?, lease_until_us = ?, exit_code = NULL, error_code = '', error_message = '', detail = '',
       cpu_ms = NULL, peak_memory_bytes = NULL
     WHERE job_id = ? AND task_name = ? AND instance_id = ? AND state = 'Waiting'
     RETURNING attempt_count`,
    [nowUs, workerId, leaseUntilUs, jobId, taskName, instanceId],
  );
  return updated ? Number(updated.attempt_count) : undefined;
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
    await admission.useWorker(workerId, Number(worker.cpu_millis ?? 0), Number(worker.memory_bytes ?? 0));
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

/** PostgreSQL text cannot hold NUL; command output can. Strip it at the boundary rather than fail the report. */
function text(value: string, max = 4000): string {
  return value.replace(/\u0000/g, '').slice(0, max);
}

/** A reported usage figure as stored: a non-negative integer, or NULL (unmeasured, or nonsense). */
function usageValue(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : null;
}

/** The columns naming one attempt, as RowUpdate values: its instance and attempt number. */
const ATTEMPT_KEY: RowUpdate['columns'] = [
  ['job_id', 'TEXT'],
  ['task_name', 'TEXT'],
  ['instance_id', 'BIGINT'],
  ['attempt_no', 'BIGINT'],
];

/**
 * An ended attempt's history row: only this worker's attempt, and never over an attempt already declared
 * Lost (a Stopped one takes the result it ran to).
 */
const ATTEMPT_ENDED: RowUpdate = {
  table: 'attempts',
  columns: [
    ...ATTEMPT_KEY,
    ['worker_id', 'TEXT'],
    ['state', 'TEXT'],
    ['ended_us', 'BIGINT'],
    ['exit_code', 'BIGINT'],
    ['signal', 'TEXT'],
    ['duration_ms', 'BIGINT'],
    ['error_code', 'TEXT'],
    ['error_message', 'TEXT'],
    ['cpu_ms', 'BIGINT'],
    ['peak_memory_bytes', 'BIGINT'],
  ],
  set: `state = CASE WHEN attempts.state = 'Running' THEN v.state ELSE attempts.state END, ended_us = v.ended_us,
    exit_code = v.exit_code, signal = v.signal, duration_ms = v.duration_ms, error_code = v.error_code,
    error_message = v.error_message, cpu_ms = v.cpu_ms, peak_memory_bytes = v.peak_memory_bytes`,
  where: `attempts.job_id = v.job_id AND attempts.task_name = v.task_name AND attempts.instance_id = v.instance_id
    AND attempts.attempt_no = v.attempt_no AND attempts.worker_id = v.worker_id
    AND attempts.state IN ('Running', 'Stopped')`,
};

/** The instance of a current attempt that ended: its result, or Waiting again for a retry. */
const INSTANCE_ENDED: RowUpdate = {
  table: 'instances',
  columns: [
    ...ATTEMPT_KEY,
    ['state', 'TEXT'],
    ['ended_us', 'BIGINT'],
    ['exit_code', 'BIGINT'],
    ['error_code', 'TEXT'],
    ['error_message', 'TEXT'],
    ['detail', 'TEXT'],
    ['retried', 'BIGINT'],
    ['cpu_ms', 'BIGINT'],
    ['peak_memory_bytes', 'BIGINT'],
  ],
  set: `state = v.state, ended_us = v.ended_us, exit_code = v.exit_code, error_code = v.error_code,
    error_message = v.error_message, detail = v.detail, lease_until_us = NULL,
    retry_count = instances.retry_count + v.retried, cpu_ms = v.cpu_ms, peak_memory_bytes = v.peak_memory_bytes`,
  where: `instances.job_id = v.job_id AND instances.task_name = v.task_name AND instances.instance_id = v.instance_id
    AND instances.state = 'Running' AND instances.attempt_count = v.attempt_no`,
};

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
    const jobs = new Map<string, JobContext | undefined>();
    for (const jobId of [...new Set(reported.map((r) => r.key.jobId))].sort())
      jobs.set(jobId, await loadJobContext(tx, jobId));
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

function instanceKey(jobId: string, taskName: string, instanceId: number): string {
  return `${jobId}\u0000${taskName}\u0000${instanceId}`;
}

/** Instances read per statement when a report is checked against them. */
const REPORTED_PER_STATEMENT = 64;

/** The rows of the reported instances (with their task's retry limit), by instanceKey. */
async function readReported(tx: SqlDriver, keys: readonly AttemptKey[]): Promise<Map<string, Row>> {
  const byTask = new Map<string, { jobId: string; taskName: string; ids: number[] }>();
  for (const { jobId, taskName, instanceId } of keys) {
    const taskKey = `${jobId}\u0000${taskName}`;
    let entry = byTask.get(taskKey);
    if (!entry) {
      entry = { jobId, taskName, ids: [] };
      byTask.set(taskKey, entry);
    }
    entry.ids.push(instanceId);
  }
  const rows = new Map<string, Row>();
  for (const { jobId, taskName, ids } of byTask.values()) {
    for (let i = 0; i < ids.length; i += REPORTED_PER_STATEMENT) {
      const chunk = ids.slice(i, i + REPORTED_PER_STATEMENT);
      const found = await tx.query(
        `SELECT i.instance_id, i.state, i.attempt_count, i.retry_count, i.worker_id, t.max_retry_count
         FROM instances i JOIN tasks t ON t.job_id = i.job_id AND t.name = i.task_name
         WHERE i.job_id = ? AND i.task_name = ? AND i.instance_id IN (${chunk.map(() => '?').join(', ')})`,
        [jobId, taskName, ...chunk],
      );
      for (const row of found) rows.set(instanceKey(jobId, taskName, Number(row.instance_id)), row);
    }
  }
  return rows;
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
    const jobs = new Map<string, JobContext | undefined>();
    for (const jobId of [...new Set(keys.map((k) => k.jobId))].sort())
      jobs.set(jobId, await loadJobContext(tx, jobId));
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

const LEASES_PER_STATEMENT = 64;

/** A held attempt's lease, extended if it is still the worker's current attempt of its instance. */
const LEASE_RENEWED: RowUpdate = {
  table: 'instances',
  columns: [...ATTEMPT_KEY, ['worker_id', 'TEXT'], ['lease_until_us', 'BIGINT']],
  set: 'lease_until_us = v.lease_until_us',
  where: `instances.job_id = v.job_id AND instances.task_name = v.task_name AND instances.instance_id = v.instance_id
    AND instances.state = 'Running' AND instances.attempt_count = v.attempt_no AND instances.worker_id = v.worker_id`,
};

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
