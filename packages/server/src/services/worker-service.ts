/**
 * The worker protocol over HTTP, server side: what `shoal agent` may do with its worker token. Every
 * call names the cluster (the token's, or 403) and, after registration, the worker (one of that
 * cluster's, or 404); results are recorded only for attempts the worker holds, and objects are reached
 * only within what those attempts name (object-scope.ts).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Assignment, BlobStore, ClaimedAttempt, ObjectUri, Store } from '@shoal/core';
import {
  invalidParameter,
  MAX_EXCHANGE,
  notFound,
  readAttemptIds,
  readAttemptResults,
  readCount,
  ShoalError,
  WORKER_ID,
} from '@shoal/core';
import type { LogFiles, LogStream } from '../logs.js';
import type { WorkerGateway } from '../scheduler/gateway.js';
import type { WorkerCaller } from '../api/worker-auth.js';
import { covers, scopeOf } from './object-scope.js';

type Body = Record<string, unknown>;

function bodyOf(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidParameter('body', value, 'must be a JSON object');
  return value as Body;
}

/** How long a signal wait may hold a request open. */
export const MAX_SIGNAL_WAIT_MS = 30_000;
/** Held attempts are looked up once per this interval per worker, not on every object request. */
const SCOPE_TTL_MS = 1_000;

export class WorkerService {
  private readonly held = new Map<string, { at: number; attempts: ClaimedAttempt[] }>();

  constructor(
    private readonly store: Store,
    private readonly gateway: WorkerGateway,
    private readonly blobs: BlobStore,
    private readonly logs: LogFiles,
  ) {}

  async register(caller: WorkerCaller, clusterId: string, raw: unknown) {
    this.sameCluster(caller, clusterId);
    const body = bodyOf(raw);
    const workerId = body.WorkerId;
    if (typeof workerId !== 'string' || !WORKER_ID.test(workerId))
      throw invalidParameter('WorkerId', workerId, 'must be i- and 20 lower-case hex digits');
    const group = body.Group;
    const hostname = body.Hostname;
    if (typeof hostname !== 'string' || hostname === '' || hostname.length > 255)
      throw invalidParameter('Hostname', hostname, 'must be a host name');
    const slots = readCount(body.Slots, 'Slots', 1024);
    if (slots === 0) throw invalidParameter('Slots', slots, 'must be at least 1');
    const cluster = await this.store.getCluster(clusterId);
    if (!cluster) throw notFound('cluster', clusterId);
    const groups = Object.keys(cluster.groups);
    const groupName = group === undefined || group === '' ? (groups.length === 1 ? groups[0]! : '') : group;
    if (typeof groupName !== 'string' || !cluster.groups[groupName])
      throw invalidParameter('Group', group, `must be a group of ${clusterId}: ${groups.join(', ')}`);
    const existing = await this.store.getWorker(workerId);
    if (existing && existing.clusterId !== clusterId)
      throw new ShoalError('StateConflict', `Worker ${workerId} is a worker of another cluster.`);
    const { leaseMs, requeued } = await this.gateway.register({
      workerId,
      clusterId,
      groupName,
      hostname,
      slots,
    });
    this.held.delete(workerId);
    return { WorkerId: workerId, Group: groupName, LeaseMs: leaseMs, Requeued: requeued };
  }

  async exchange(caller: WorkerCaller, clusterId: string, workerId: string, raw: unknown) {
    await this.worker(caller, clusterId, workerId);
    const body = bodyOf(raw);
    const results = readAttemptResults(body.Results);
    const want = readCount(body.Want ?? 0, 'Want', MAX_EXCHANGE);
    const ahead = readCount(body.Ahead ?? 0, 'Ahead', MAX_EXCHANGE);
    const returned = body.Returned === undefined ? [] : readAttemptIds(body.Returned, 'Returned');
    const assignments: Assignment[] = await this.gateway.exchange(workerId, results, want, {
      ahead,
      returned,
    });
    if (results.length || assignments.length) this.held.delete(workerId);
    return { Assignments: assignments };
  }

  async heartbeat(caller: WorkerCaller, clusterId: string, workerId: string, raw: unknown) {
    await this.worker(caller, clusterId, workerId);
    const held = readAttemptIds(bodyOf(raw).AttemptIds, 'AttemptIds');
    const reply = await this.gateway.heartbeat(workerId, held);
    return { Cancel: reply.cancel, Drain: reply.drain };
  }

  async leave(caller: WorkerCaller, clusterId: string, workerId: string): Promise<void> {
    await this.worker(caller, clusterId, workerId);
    await this.gateway.leave(workerId);
    this.held.delete(workerId);
  }

  /** The attempt the worker holds of one instance (what a Slurm array element runs), or 404. */
  async heldAssignment(
    caller: WorkerCaller,
    clusterId: string,
    workerId: string,
    query: {
      jobId: string | undefined;
      taskName: string | undefined;
      instanceId: string | undefined;
      attemptNo: string | undefined;
    },
  ): Promise<Assignment> {
    await this.worker(caller, clusterId, workerId);
    const { jobId, taskName, instanceId, attemptNo } = query;
    if (!jobId) throw invalidParameter('JobId', jobId, 'is required');
    if (!taskName) throw invalidParameter('TaskName', taskName, 'is required');
    if (!instanceId || !/^\d{1,9}$/.test(instanceId))
      throw invalidParameter('InstanceId', instanceId, 'must be an instance index');
    if (attemptNo !== undefined && !/^\d{1,9}$/.test(attemptNo))
      throw invalidParameter('AttemptNo', attemptNo, 'must be an attempt number');
    const found = await this.gateway.heldAssignment(workerId, {
      jobId,
      taskName,
      instanceId: Number(instanceId),
    });
    // Asked for one attempt: another one of the instance (it was re-queued and claimed again) is not it.
    if (!found || (attemptNo !== undefined && found.attemptNo !== Number(attemptNo)))
      throw notFound('attempt', `${jobId}.${taskName}.${instanceId}${attemptNo ? `.${attemptNo}` : ''}`);
    return found;
  }

  /** Waits until the scheduler signals new work or cancellations, or `waitMs` passes. */
  async waitForSignal(
    caller: WorkerCaller,
    clusterId: string,
    workerId: string,
    waitMs: number,
    gone: AbortSignal,
  ) {
    await this.worker(caller, clusterId, workerId);
    const signals = this.gateway.signals;
    return new Promise<{ Work: boolean; Cancel: boolean }>((resolve) => {
      const done = (answer: { Work: boolean; Cancel: boolean }) => {
        clearTimeout(timer);
        signals.off('work', onWork);
        signals.off('cancel', onCancel);
        gone.removeEventListener('abort', onGone);
        resolve(answer);
      };
      const onWork = () => done({ Work: true, Cancel: false });
      const onCancel = () => done({ Work: false, Cancel: true });
      // The agent went away (or the server is closing): nothing is left to wait for.
      const onGone = () => done({ Work: false, Cancel: false });
      const timer = setTimeout(onGone, Math.min(waitMs, MAX_SIGNAL_WAIT_MS));
      timer.unref();
      signals.on('work', onWork);
      signals.on('cancel', onCancel);
      gone.addEventListener('abort', onGone);
      if (gone.aborted) onGone();
    });
  }

  /** Checks that the worker may read (or write) `uri` for an attempt it holds, or throws NotFound. */
  async checkObject(
    caller: WorkerCaller,
    clusterId: string,
    workerId: string,
    uri: ObjectUri,
    mode: 'read' | 'write',
  ): Promise<void> {
    await this.worker(caller, clusterId, workerId);
    let scope = scopeOf(await this.heldAttempts(workerId, false));
    if (!covers(mode === 'read' ? scope.read : scope.write, uri)) {
      // Claimed a moment ago, maybe on another server: look again before refusing.
      scope = scopeOf(await this.heldAttempts(workerId, true));
      if (!covers(mode === 'read' ? scope.read : scope.write, uri))
        throw notFound('object', `${uri.scheme}://${uri.bucket}/${uri.key}`);
    }
  }

  get objects(): BlobStore {
    return this.blobs;
  }

  /** Stores a held attempt's stdout or stderr log where the API serves logs from. */
  async writeLog(
    caller: WorkerCaller,
    clusterId: string,
    workerId: string,
    attemptId: string,
    stream: LogStream,
    body: Readable,
  ): Promise<void> {
    await this.worker(caller, clusterId, workerId);
    const attempt = (await this.heldAttempts(workerId, true)).find((a) => a.attemptId === attemptId);
    if (!attempt) throw notFound('attempt', attemptId);
    await mkdir(this.logs.dirOf(attempt.jobId, attempt.taskName, attempt.instanceId), { recursive: true });
    const file = this.logs.path(
      attempt.jobId,
      attempt.taskName,
      attempt.instanceId,
      attempt.attemptNo,
      stream,
    );
    await pipeline(body, createWriteStream(file));
  }

  private sameCluster(caller: WorkerCaller, clusterId: string): void {
    if (caller.clusterId !== clusterId)
      throw new ShoalError(
        'Forbidden.WrongCredential',
        `This worker token belongs to cluster ${caller.clusterId}, not ${clusterId}.`,
      );
  }

  private async worker(caller: WorkerCaller, clusterId: string, workerId: string): Promise<void> {
    this.sameCluster(caller, clusterId);
    const worker = await this.store.getWorker(workerId);
    if (!worker || worker.clusterId !== clusterId)
      throw new ShoalError(
        'Worker.NotFound',
        `Worker ${workerId} is not registered in cluster ${clusterId}.`,
      );
  }

  private async heldAttempts(workerId: string, fresh: boolean): Promise<ClaimedAttempt[]> {
    const now = Date.now();
    const hit = this.held.get(workerId);
    if (hit && !fresh && now - hit.at < SCOPE_TTL_MS) return hit.attempts;
    const attempts = await this.store.listHeldAttempts(workerId);
    if (this.held.size > 10_000) this.held.clear();
    this.held.set(workerId, { at: now, attempts });
    return attempts;
  }
}
