import type {
  State,
  AccessKeyInfo,
  AccessKeyLookup,
  AccessKeyRecord,
  AttemptRecord,
  AttemptResult,
  ClaimedAttempt,
  ClusterRecord,
  ClaimLimits,
  EventRecord,
  HeldInstance,
  ImageRecord,
  InstanceRecord,
  JobRecord,
  ListChildrenQuery,
  ListClustersQuery,
  ListImagesQuery,
  ListJobsQuery,
  ListUsersQuery,
  ListWorkersQuery,
  NewJob,
  Page,
  Store,
  TaskRecord,
  UserRecord,
  WorkerRecord,
  WorkerTokenRecord,
} from '@shoal/core';
import type { SqlDriver } from '../driver.js';
import { queryOne } from '../driver.js';
import * as autoClusters from './auto-clusters.js';
import * as accounts from './accounts.js';
import * as clusters from './clusters.js';
import * as control from './control.js';
import * as images from './images.js';
import * as jobs from './jobs.js';
import * as progress from './progress.js';
import * as scheduling from './scheduling.js';
import { TaskSpecCache } from './task-spec-cache.js';
import * as tenancy from './tenancy.js';

const { isUniqueViolation } = accounts;

/** The Store port over any SqlDriver: one implementation of the logic, two dialects underneath. */
export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';
  private readonly specs = new TaskSpecCache();
  /** Fair share: the owner each cluster served last (fair-share.ts). */
  private readonly turns = new Map<string, number>();

  constructor(private readonly db: SqlDriver) {
    this.dialect = db.dialect;
  }

  async createJob(job: NewJob, nowUs: number) {
    try {
      return await jobs.createJob(this.db, job, nowUs);
    } catch (err) {
      // Two creates with one IdempotentToken raced (possible on PostgreSQL): the loser returns the winner.
      if (job.idempotentToken === null || !isUniqueViolation(err)) throw err;
      const existing = await queryOne(
        this.db,
        'SELECT id FROM jobs WHERE owner_id = ? AND idempotent_token = ?',
        [job.ownerId, job.idempotentToken],
      );
      if (!existing) throw err;
      return { id: String(existing.id), created: false };
    }
  }
  getJob(id: string): Promise<JobRecord | undefined> {
    return jobs.getJob(this.db, id);
  }
  countJobs(ownerId: number, states: readonly State[]): Promise<number> {
    return jobs.countJobs(this.db, ownerId, states);
  }

  listJobs(query: ListJobsQuery): Promise<Page<JobRecord>> {
    return jobs.listJobs(this.db, query);
  }
  getJobDescription(id: string) {
    return jobs.getJobDescription(this.db, id);
  }
  listTasks(jobId: string, query: ListChildrenQuery): Promise<Page<TaskRecord>> {
    return jobs.listTasks(this.db, this.specs, jobId, query);
  }
  getTask(jobId: string, taskName: string): Promise<TaskRecord | undefined> {
    return jobs.getTask(this.db, this.specs, jobId, taskName);
  }
  listInstances(jobId: string, taskName: string, query: ListChildrenQuery): Promise<Page<InstanceRecord>> {
    return jobs.listInstances(this.db, jobId, taskName, query);
  }
  getInstance(jobId: string, taskName: string, instanceId: number): Promise<InstanceRecord | undefined> {
    return jobs.getInstance(this.db, jobId, taskName, instanceId);
  }
  listAttempts(jobId: string, taskName: string, instanceId: number): Promise<AttemptRecord[]> {
    return jobs.listAttempts(this.db, jobId, taskName, instanceId);
  }

  stopJob(id: string, nowUs: number) {
    return control.stopJob(this.db, id, nowUs);
  }
  startJob(id: string, nowUs: number) {
    return control.startJob(this.db, id, nowUs);
  }
  changeJobPriority(id: string, priority: number, nowUs: number) {
    return control.changeJobPriority(this.db, id, priority, nowUs);
  }
  async deleteJob(id: string, nowUs: number) {
    await control.deleteJob(this.db, id, nowUs);
    this.specs.forgetJob(id);
  }
  listDeletedJobs(limit: number) {
    return control.listDeletedJobs(this.db, limit);
  }
  purgeJob(id: string, batch: number) {
    return control.purgeJob(this.db, id, batch);
  }
  listAutoReleasable(limit: number) {
    return control.listAutoReleasable(this.db, limit);
  }

  registerWorker(worker: Omit<WorkerRecord, 'registeredAtUs' | 'heartbeatAtUs' | 'state'>, nowUs: number) {
    return scheduling.registerWorker(this.db, worker, nowUs);
  }
  releaseWorkerAttempts(workerId: string, nowUs: number, reason?: string) {
    return scheduling.releaseWorkerAttempts(this.db, workerId, nowUs, reason);
  }

  releaseAttempts(workerId: string, attemptIds: readonly string[], nowUs: number, reason: string) {
    return scheduling.releaseAttempts(this.db, workerId, attemptIds, nowUs, reason);
  }
  claimAttempts(
    workerId: string,
    max: number,
    nowUs: number,
    leaseUntilUs: number,
    limits?: ClaimLimits,
  ): Promise<ClaimedAttempt[]> {
    return scheduling.claimAttempts(
      this.db,
      this.specs,
      workerId,
      max,
      nowUs,
      leaseUntilUs,
      limits,
      this.turns,
    );
  }
  async exchangeAttempts(
    workerId: string,
    results: readonly AttemptResult[],
    max: number,
    nowUs: number,
    leaseUntilUs: number,
    limits?: ClaimLimits,
    ahead = 0,
  ) {
    const { claimed, lockedOut } = await this.db.transaction(async (tx) => {
      await scheduling.finishAttempts(tx, this.specs, workerId, results, nowUs);
      return scheduling.claimOrReport(
        tx,
        this.specs,
        workerId,
        max,
        nowUs,
        leaseUntilUs,
        limits,
        this.turns,
        results.length === 0,
        ahead,
      );
    });
    // Holding the locks of what it finished, the claim could not wait for the rows other servers' claims
    // hold (one task's fresh range): a claim of its own, holding nothing, may.
    if (!lockedOut) return claimed;
    return scheduling.claimAttempts(
      this.db,
      this.specs,
      workerId,
      max,
      nowUs,
      leaseUntilUs,
      limits,
      this.turns,
      ahead,
    );
  }
  returnAttempts(workerId: string, attemptIds: readonly string[], nowUs: number) {
    return scheduling.returnAttempts(this.db, workerId, attemptIds, nowUs);
  }
  finishAttempts(workerId: string, results: readonly AttemptResult[], nowUs: number) {
    return scheduling.finishAttempts(this.db, this.specs, workerId, results, nowUs);
  }
  renewLeases(workerId: string, attemptIds: readonly string[], nowUs: number, leaseUntilUs: number) {
    return scheduling.renewLeases(this.db, workerId, attemptIds, nowUs, leaseUntilUs);
  }
  expireLeases(nowUs: number) {
    return scheduling.expireLeases(this.db, nowUs);
  }

  listEvents(afterSeq: number, limit: number, ownerId?: number): Promise<EventRecord[]> {
    return tenancy.listEvents(this.db, afterSeq, limit, ownerId);
  }

  listRecentEvents(beforeSeq: number | undefined, limit: number, ownerId?: number): Promise<EventRecord[]> {
    return tenancy.listRecentEvents(this.db, beforeSeq, limit, ownerId);
  }

  createUser(name: string, nowUs: number): Promise<UserRecord> {
    return accounts.createUser(this.db, name, nowUs);
  }
  getUser(name: string): Promise<UserRecord | undefined> {
    return accounts.getUser(this.db, name);
  }
  listUsers(query: ListUsersQuery): Promise<Page<UserRecord>> {
    return accounts.listUsers(this.db, query);
  }
  deleteUser(name: string): Promise<boolean> {
    return accounts.deleteUser(this.db, name);
  }
  putAccessKey(key: AccessKeyRecord, nowUs: number): Promise<void> {
    return accounts.putAccessKey(this.db, key, nowUs);
  }
  createAccessKey(key: AccessKeyRecord, nowUs: number): Promise<void> {
    return accounts.createAccessKey(this.db, key, nowUs);
  }
  getAccessKey(id: string): Promise<AccessKeyLookup | undefined> {
    return accounts.getAccessKey(this.db, id);
  }
  listAccessKeys(ownerId?: number): Promise<AccessKeyInfo[]> {
    return accounts.listAccessKeys(this.db, ownerId);
  }
  setAccessKeyState(id: string, disabled: boolean): Promise<boolean> {
    return accounts.setAccessKeyState(this.db, id, disabled);
  }
  deleteAccessKey(id: string): Promise<boolean> {
    return accounts.deleteAccessKey(this.db, id);
  }

  useNonce(accessKeyId: string, nonce: string, nowUs: number, expiresUs: number): Promise<boolean> {
    return tenancy.useNonce(this.db, accessKeyId, nonce, nowUs, expiresUs);
  }
  pruneNonces(nowUs: number): Promise<number> {
    return tenancy.pruneNonces(this.db, nowUs);
  }
  getBucketOwner(bucket: string): Promise<number | undefined> {
    return tenancy.getBucketOwner(this.db, bucket);
  }
  claimBucket(bucket: string, ownerId: number, nowUs: number): Promise<number> {
    return tenancy.claimBucket(this.db, bucket, ownerId, nowUs);
  }

  createImage(image: ImageRecord, idempotentToken: string | null) {
    return images.createImage(this.db, image, idempotentToken);
  }
  getImage(id: string): Promise<ImageRecord | undefined> {
    return images.getImage(this.db, id);
  }
  listImages(query: ListImagesQuery): Promise<Page<ImageRecord>> {
    return images.listImages(this.db, query);
  }
  deleteImage(id: string): Promise<boolean> {
    return images.deleteImage(this.db, id);
  }
  createCluster(cluster: ClusterRecord, idempotentToken: string | null) {
    return clusters.createCluster(this.db, cluster, idempotentToken);
  }
  putCluster(cluster: ClusterRecord): Promise<void> {
    return clusters.putCluster(this.db, cluster);
  }
  getCluster(id: string): Promise<ClusterRecord | undefined> {
    return clusters.getCluster(this.db, id);
  }
  listClusters(query: ListClustersQuery): Promise<Page<ClusterRecord>> {
    return clusters.listClusters(this.db, query);
  }
  deleteCluster(id: string) {
    return clusters.deleteCluster(this.db, id);
  }
  runningOnWorkers(workerIds: readonly string[]) {
    return clusters.runningOnWorkers(this.db, workerIds);
  }
  listWorkers(query: ListWorkersQuery): Promise<Page<WorkerRecord>> {
    return clusters.listWorkers(this.db, query);
  }
  getWorker(id: string): Promise<WorkerRecord | undefined> {
    return clusters.getWorker(this.db, id);
  }
  setWorkerState(id: string, state: 'Running' | 'Deleting'): Promise<boolean> {
    return clusters.setWorkerState(this.db, id, state);
  }
  deleteWorker(id: string): Promise<boolean> {
    return clusters.deleteWorker(this.db, id);
  }
  queuePosition(jobId: string, taskName: string, instanceId: number | undefined, cap: number) {
    return progress.queuePosition(this.db, jobId, taskName, instanceId, cap);
  }
  queuePositions(jobId: string, taskName: string, instanceIds: readonly number[], cap: number) {
    return progress.queuePositions(this.db, jobId, taskName, instanceIds, cap);
  }

  ownerRunningCount(ownerId: number) {
    return progress.ownerRunningCount(this.db, ownerId);
  }

  ownerRunningTasks(ownerId: number) {
    return progress.ownerRunningTasks(this.db, this.specs, ownerId);
  }

  replaceCluster(expected: ClusterRecord, next: ClusterRecord) {
    return clusters.replaceCluster(this.db, expected, next);
  }

  clusterDemand(clusterId: string) {
    return clusters.clusterDemand(this.db, clusterId);
  }

  listAutoClusterCandidates(limit: number) {
    return autoClusters.listAutoClusterCandidates(this.db, this.specs, limit);
  }

  moveClusterTasks(from: string, to: string) {
    return autoClusters.moveClusterTasks(this.db, from, to);
  }

  createAutoCluster(cluster: ClusterRecord) {
    return autoClusters.createAutoCluster(this.db, cluster);
  }

  releaseAutoCluster(cluster: ClusterRecord) {
    return autoClusters.releaseAutoCluster(this.db, cluster);
  }

  listHeldAttempts(workerId: string, of?: HeldInstance): Promise<ClaimedAttempt[]> {
    return scheduling.listHeldAttempts(this.db, this.specs, workerId, of);
  }
  createWorkerToken(token: WorkerTokenRecord): Promise<void> {
    return clusters.createWorkerToken(this.db, token);
  }
  getWorkerToken(id: string): Promise<WorkerTokenRecord | undefined> {
    return clusters.getWorkerToken(this.db, id);
  }
  listWorkerTokens(clusterId: string): Promise<WorkerTokenRecord[]> {
    return clusters.listWorkerTokens(this.db, clusterId);
  }
  deleteWorkerToken(id: string): Promise<boolean> {
    return clusters.deleteWorkerToken(this.db, id);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
