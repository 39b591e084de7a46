import type { BlobStore, Clock, Store } from '@shoal/core';
import type { FastifyRequest } from 'fastify';
import type { ExecutionInfo } from '../execution.js';
import type { LogFiles } from '../logs.js';
import type { AccountService } from '../services/account-service.js';
import type { Caller } from '../services/caller.js';
import type { QuotaService } from '../services/quota-service.js';
import type { PendingReasons } from '../services/pending-reasons.js';
import type { ClusterService } from '../services/cluster-service.js';
import type { ImageService } from '../services/image-service.js';
import type { JobService } from '../services/job-service.js';
import type { ObjectAccess } from '../services/object-access.js';
import type { WorkerService } from '../services/worker-service.js';
import type { WorkerCaller, WorkerTokens } from './worker-auth.js';

/** What route handlers need; built by the composition root. */
export interface ApiContext {
  readonly jobs: JobService;
  readonly accounts: AccountService;
  readonly images: ImageService;
  readonly clusters: ClusterService;
  readonly quotas: QuotaService;
  readonly pending: PendingReasons;
  readonly workerTokens: WorkerTokens;
  readonly workers: WorkerService;
  readonly objects: ObjectAccess;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly logs: LogFiles;
  readonly clock: Clock;
  readonly execution: ExecutionInfo;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
    /** Set on worker routes (a worker token), instead of `caller`. */
    worker: WorkerCaller | null;
  }
}

export function workerOf(request: FastifyRequest): WorkerCaller {
  if (!request.worker) throw new Error('worker route reached without a worker token');
  return request.worker;
}

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('route reached without authentication');
  return request.caller;
}
