/**
 * The Store port: every durable state change of Shoal, named for domain operations. Each method is one
 * transaction; each state change also appends an event to the outbox in that same transaction.
 * Adapters (SQLite, PostgreSQL) implement it with identical behaviour, checked by one contract suite.
 */
import type { AttemptResult } from '../attempt.js';
import type { ClusterRecord } from '../clusters.js';
import type { ImageRecord } from '../images.js';
import type { JobSpec, TaskSpec } from '../job-spec.js';
import type { State, StateCounts } from '../states.js';

export interface JobRecord {
  readonly id: string;
  readonly ownerId: number;
  /** Name of the owning user; '' when that user was deleted. */
  readonly ownerName: string;
  readonly name: string;
  readonly description: string;
  readonly priority: number;
  readonly state: State;
  readonly message: string;
  readonly jobFailOnInstanceFail: boolean;
  readonly autoRelease: boolean;
  readonly createdAtUs: number;
  readonly startedAtUs: number | null;
  readonly endedAtUs: number | null;
  readonly taskCounts: StateCounts;
  readonly instanceCounts: StateCounts;
}

export interface TaskRecord {
  readonly jobId: string;
  readonly name: string;
  readonly state: State;
  readonly instanceCount: number;
  readonly predecessors: readonly string[];
  readonly startedAtUs: number | null;
  readonly endedAtUs: number | null;
  readonly counts: StateCounts;
  readonly spec: TaskSpec;
}

export interface InstanceRecord {
  readonly jobId: string;
  readonly taskName: string;
  readonly instanceId: number;
  readonly state: State;
  /** Retries made (attempts that counted against MaxRetryCount, minus the first). */
  readonly retryCount: number;
  /** All attempts started, including ones cut off by a crash. */
  readonly attemptCount: number;
  readonly startedAtUs: number | null;
  readonly endedAtUs: number | null;
  readonly exitCode: number | null;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly detail: string;
  readonly workerId: string;
  /** Usage of the last attempt that ended, when its cgroup measured it (Shoal addition). */
  readonly cpuMs: number | null;
  readonly peakMemoryBytes: number | null;
}

export interface AttemptRecord {
  readonly attemptId: string;
  readonly jobId: string;
  readonly taskName: string;
  readonly instanceId: number;
  readonly attemptNo: number;
  readonly workerId: string;
  /** Running, Finished, Failed, Stopped, or Lost (cut off by a crash; did not count as a retry). */
  readonly state: string;
  readonly startedAtUs: number;
  readonly endedAtUs: number | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number | null;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly cpuMs: number | null;
  readonly peakMemoryBytes: number | null;
}

export interface EventRecord {
  readonly seq: number;
  readonly timeUs: number;
  /** Notification event name: OnJobRunning, OnTaskFinished, OnInstanceFailed, OnPriorityChange, ... */
  readonly type: string;
  readonly jobId: string;
  readonly taskName: string;
  readonly instanceId: number | null;
  readonly state: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface NewJob {
  readonly id: string;
  readonly ownerId: number;
  readonly spec: JobSpec;
  /** The JobDescription exactly as submitted, for `GET /jobs/{id}?description`. */
  readonly descriptionJson: string;
  readonly idempotentToken: string | null;
  /** Where its tasks that name no cluster go: the default cluster (default), or AUTO_CLUSTER_PENDING. */
  readonly unnamedClusterId?: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Marker of the next page; '' on the last page. */
  readonly nextMarker: string;
}

export interface ListJobsQuery {
  readonly ownerId?: number;
  readonly states?: readonly State[];
  /** Only jobs whose name contains this, in any case (Shoal addition `Name`). */
  readonly nameContains?: string;
  readonly marker?: string;
  readonly limit: number;
}

export interface ListChildrenQuery {
  readonly states?: readonly State[];
  readonly marker?: string;
  readonly limit: number;
}

/** One claimed attempt: the assignment a worker runs plus what the store knows of it. */
export interface ClaimedAttempt {
  readonly attemptId: string;
  /** The owner of the attempt's job. */
  readonly ownerId: number;
  readonly jobId: string;
  readonly taskName: string;
  readonly instanceId: number;
  readonly attemptNo: number;
  readonly task: TaskSpec;
  /** The job's priority as queued: a worker holding attempts claimed ahead starts the highest first. */
  readonly priority: number;
}

export interface WorkerRecord {
  readonly id: string;
  readonly clusterId: string;
  /** The group of its cluster it is one of ('' = none, as workers registered before clusters). */
  readonly groupName: string;
  readonly hostname: string;
  readonly slots: number;
  /**
   * What its machine holds, 0 = not said: the instance types of the attempts it runs at once must fit
   * in it together.
   */
  readonly cpuMillis?: number;
  readonly memoryBytes?: number;
  /** Deleting: asked to leave; it finishes what it runs and claims nothing new. */
  readonly state: 'Running' | 'Deleting';
  readonly registeredAtUs: number;
  readonly heartbeatAtUs: number;
}

/**
 * An access key as the store keeps it. `secret` is opaque to the store: the server seals it (encrypts it)
 * before it is written and opens it after it is read; rows written before sealing existed hold plaintext.
 */
export interface AccessKeyRecord {
  readonly id: string;
  readonly secret: string;
  readonly ownerId: number;
  readonly disabled: boolean;
}

/** A key as the signature check needs it: the record plus its owner's name ('' if the user is gone). */
export interface AccessKeyLookup extends AccessKeyRecord {
  readonly ownerName: string;
}

/** A key as listed to the admin: never its secret. */
export interface AccessKeyInfo {
  readonly id: string;
  readonly ownerId: number;
  readonly disabled: boolean;
  readonly createdAtUs: number;
}

export interface UserRecord {
  readonly ownerId: number;
  readonly name: string;
  readonly createdAtUs: number;
  readonly keyCount: number;
}

export interface ListUsersQuery {
  /** Name of the last user of the previous page. */
  readonly marker?: string;
  readonly limit: number;
}

export interface ListImagesQuery {
  /** Only this owner's images; all owners' without it (the admin). */
  readonly ownerId?: number;
  /** Id of the last image of the previous page. */
  readonly marker?: string;
  readonly limit: number;
}

/** A worker token: bound to one cluster; the store keeps a hash of its secret, never the secret. */
export interface WorkerTokenRecord {
  readonly id: string;
  readonly clusterId: string;
  /** Who created it (the cluster's owner or the admin). */
  readonly ownerId: number;
  readonly secretHash: string;
  readonly createdAtUs: number;
}

export interface ListClustersQuery {
  /** Only clusters of these owners; every owner's without it (the admin). */
  readonly ownerIds?: readonly number[];
  /** Id of the last cluster of the previous page. */
  readonly marker?: string;
  readonly limit: number;
}

export interface ListWorkersQuery {
  readonly clusterId: string;
  readonly groupName?: string;
  /** Id of the last worker of the previous page. */
  readonly marker?: string;
  readonly limit: number;
}

/** What a claim must respect beyond the queue's order (the owners' quotas). */
export interface ClaimLimits {
  /** The most instances an owner may have running at once; undefined = no limit. */
  runningPerOwner(ownerId: number): number | undefined;
  /** The most CPU (thousandths of a core) an owner's running instances may take together; undefined = no limit. */
  cpuPerOwner?(ownerId: number): number | undefined;
  /** What one attempt of the task takes: its instance type's CPU and memory. */
  demandOf?(task: TaskSpec): { readonly cpuMillis: number; readonly memoryBytes: number };
}

/** A task waiting for a cluster of its own. */
export interface AutoClusterCandidate {
  readonly jobId: string;
  readonly taskName: string;
  readonly ownerId: number;
  readonly task: TaskSpec;
}

/** One instance, named to look up the attempt a worker holds of it. */
export interface HeldInstance {
  readonly jobId: string;
  readonly taskName: string;
  readonly instanceId: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';

  /** Creates the job or, for a repeated IdempotentToken of the same owner, returns the existing id. */
  createJob(job: NewJob, nowUs: number): Promise<{ id: string; created: boolean }>;
  getJob(id: string): Promise<JobRecord | undefined>;
  listJobs(query: ListJobsQuery): Promise<Page<JobRecord>>;
  /** How many jobs an owner has in the given states. */
  countJobs(ownerId: number, states: readonly State[]): Promise<number>;
  getJobDescription(id: string): Promise<string | undefined>;
  listTasks(jobId: string, query: ListChildrenQuery): Promise<Page<TaskRecord>>;
  getTask(jobId: string, taskName: string): Promise<TaskRecord | undefined>;
  listInstances(jobId: string, taskName: string, query: ListChildrenQuery): Promise<Page<InstanceRecord>>;
  getInstance(jobId: string, taskName: string, instanceId: number): Promise<InstanceRecord | undefined>;
  listAttempts(jobId: string, taskName: string, instanceId: number): Promise<AttemptRecord[]>;

  /** Stops a Waiting/Running job: queued work is withdrawn, running attempts are marked for cancelling. */
  stopJob(id: string, nowUs: number): Promise<void>;
  /** Re-queues what did not finish of a Stopped or Failed job. */
  startJob(id: string, nowUs: number): Promise<void>;
  changeJobPriority(id: string, priority: number, nowUs: number): Promise<void>;
  /**
   * Deletes a settled job: gone for every lookup and listing at once; its rows are purged after, in
   * batches (purgeJob), so deleting a job of a million instances costs the caller nothing.
   */
  deleteJob(id: string, nowUs: number): Promise<void>;
  /** Deleted jobs whose rows are not purged yet, oldest first. */
  listDeletedJobs(limit: number): Promise<string[]>;
  /** Purges up to `batch` rows of a deleted job; 0 once nothing of it is left. */
  purgeJob(id: string, batch: number): Promise<number>;
  /** Ids of Finished jobs with AutoRelease set, oldest first. */
  listAutoReleasable(limit: number): Promise<string[]>;

  /**
   * Registers a worker (again): it is Running in its cluster's group; a worker claims work of its own
   * cluster only.
   */
  registerWorker(
    worker: Omit<WorkerRecord, 'registeredAtUs' | 'heartbeatAtUs' | 'state'>,
    nowUs: number,
  ): Promise<void>;
  /**
   * Ends every Running attempt of a worker as Lost (the worker restarted or vanished) and re-queues the
   * instances without consuming a retry. Returns the attempt ids.
   */
  releaseWorkerAttempts(workerId: string, nowUs: number, reason?: string): Promise<string[]>;
  /**
   * The same for some of a worker's attempts (their machine failed or was taken away under them): each
   * named attempt the worker still runs ends as Lost with `reason`, and its instance is re-queued without
   * consuming a retry. Returns the attempt ids it released.
   */
  releaseAttempts(
    workerId: string,
    attemptIds: readonly string[],
    nowUs: number,
    reason: string,
  ): Promise<string[]>;
  /**
   * Claims up to `max` queued instances for a worker, highest priority first, FIFO among equals, leaving
   * queued those of a task at its MaxRunningInstances and of an owner at `limits`' running quota.
   */
  claimAttempts(
    workerId: string,
    max: number,
    nowUs: number,
    leaseUntilUs: number,
    limits?: ClaimLimits,
  ): Promise<ClaimedAttempt[]>;
  /**
   * finishAttempts then claimAttempts in one transaction: the worker's usual round. `ahead`: how many of
   * `max` are beyond the worker's free slots (claimed ahead, see the worker loop). Those wait on the worker
   * for a slot and room (it judges their fit there), and are not taken of capped tasks or limited owners.
   */
  exchangeAttempts(
    workerId: string,
    results: readonly AttemptResult[],
    max: number,
    nowUs: number,
    leaseUntilUs: number,
    limits?: ClaimLimits,
    ahead?: number,
  ): Promise<ClaimedAttempt[]>;
  /**
   * Takes back attempts a worker claimed ahead and never started: Waiting again as if never claimed (no
   * attempt, retry or loss counted), back in the queue. Returns the attempt ids taken back.
   */
  returnAttempts(workerId: string, attemptIds: readonly string[], nowUs: number): Promise<string[]>;
  /** Records ended attempts; stale reports (attempt no longer current) are kept in history only. */
  finishAttempts(workerId: string, results: readonly AttemptResult[], nowUs: number): Promise<void>;
  /**
   * Extends the leases of a worker's running attempts and returns those it must cancel (their instance is
   * no longer Running on this worker, e.g. the job was stopped).
   */
  renewLeases(
    workerId: string,
    attemptIds: readonly string[],
    nowUs: number,
    leaseUntilUs: number,
  ): Promise<string[]>;
  /**
   * The attempts a worker holds now (instances Running on it), with their tasks and owners; with `of`,
   * only the attempt of that one instance (if the worker holds it).
   */
  listHeldAttempts(workerId: string, of?: HeldInstance): Promise<ClaimedAttempt[]>;
  /** Re-queues instances whose lease expired (their worker is gone). Returns how many. */
  expireLeases(nowUs: number): Promise<number>;

  /**
   * Events after a sequence number, oldest first. With `ownerId`, only events of that owner's existing jobs
   * (events of deleted jobs are then left out: their owner can no longer be checked).
   */
  listEvents(afterSeq: number, limit: number, ownerId?: number): Promise<EventRecord[]>;

  /** The newest events before a sequence number (all when undefined), newest first; `ownerId` as above. */
  listRecentEvents(beforeSeq: number | undefined, limit: number, ownerId?: number): Promise<EventRecord[]>;

  /** Creates a user with the next never-used owner id; StateConflict if the name is taken. */
  createUser(name: string, nowUs: number): Promise<UserRecord>;
  getUser(name: string): Promise<UserRecord | undefined>;
  /** Users by name; the admin (owner 1) is one of them. */
  listUsers(query: ListUsersQuery): Promise<Page<UserRecord>>;
  /** Deletes a user and its keys (its jobs stay, owned by the same owner id); false if there was none. */
  deleteUser(name: string): Promise<boolean>;

  /** Adds a key, or replaces the key with that id (used to re-seal secrets and to register the admin key). */
  putAccessKey(key: AccessKeyRecord, nowUs: number): Promise<void>;
  /** Adds a new key; StateConflict if the id exists. */
  createAccessKey(key: AccessKeyRecord, nowUs: number): Promise<void>;
  getAccessKey(id: string): Promise<AccessKeyLookup | undefined>;
  /** Keys of one owner, or of everyone without `ownerId`, oldest first; secrets are not included. */
  listAccessKeys(ownerId?: number): Promise<AccessKeyInfo[]>;
  /** Enables or disables a key; false if there is no such key. */
  setAccessKeyState(id: string, disabled: boolean): Promise<boolean>;
  deleteAccessKey(id: string): Promise<boolean>;

  /**
   * Records that a signature nonce of a key was used, to be remembered until `expiresUs`. Returns false when
   * the same key already used that nonce and it has not expired yet (a replay).
   */
  useNonce(accessKeyId: string, nonce: string, nowUs: number, expiresUs: number): Promise<boolean>;
  /** Forgets nonces that expired; returns how many. */
  pruneNonces(nowUs: number): Promise<number>;

  /** The owner of an object bucket, if anyone has claimed it. */
  getBucketOwner(bucket: string): Promise<number | undefined>;
  /** Gives an unclaimed bucket to `ownerId`; returns the bucket's owner afterwards (maybe someone else). */
  claimBucket(bucket: string, ownerId: number, nowUs: number): Promise<number>;

  /**
   * Registers an image or, for a repeated IdempotentToken of the same owner, returns the existing one's id.
   */
  createImage(image: ImageRecord, idempotentToken: string | null): Promise<{ id: string; created: boolean }>;
  getImage(id: string): Promise<ImageRecord | undefined>;
  /** Images by id. */
  listImages(query: ListImagesQuery): Promise<Page<ImageRecord>>;
  /** False if there was no such image. Accepted jobs keep the image they resolved at submit. */
  deleteImage(id: string): Promise<boolean>;

  /** Creates a cluster or, for a repeated IdempotentToken of the same owner, returns the existing id. */
  createCluster(
    cluster: ClusterRecord,
    idempotentToken: string | null,
  ): Promise<{ id: string; created: boolean }>;
  /** Writes a cluster's description and state; creates it if absent (the default cluster). */
  putCluster(cluster: ClusterRecord): Promise<void>;
  getCluster(id: string): Promise<ClusterRecord | undefined>;
  /** Clusters by id. */
  listClusters(query: ListClustersQuery): Promise<Page<ClusterRecord>>;
  /**
   * Deletes a cluster and its workers' rows, unless a task that has not ended runs on it: then nothing
   * changes and `busyJobId` names the job of such a task.
   */
  deleteCluster(id: string): Promise<{ deleted: boolean; busyJobId?: string }>;
  /**
   * Where a queued instance (or, without `instanceId`, the task's first queued one) stands: its cluster
   * and how many queued instances of that cluster are claimed before it, counted up to `cap`, and the
   * time before which it is not claimed (a retry's backoff; 0 = none). Undefined
   * when nothing of it is queued.
   */
  queuePosition(
    jobId: string,
    taskName: string,
    instanceId: number | undefined,
    cap: number,
  ): Promise<{ clusterId: string; ahead: number; notBeforeUs: number } | undefined>;
  /** queuePosition of many instances of one task at once (a page of a listing); queued ones only. */
  queuePositions(
    jobId: string,
    taskName: string,
    instanceIds: readonly number[],
    cap: number,
  ): Promise<Map<number, { clusterId: string; ahead: number; notBeforeUs: number }>>;
  /** Instances an owner has running now, all jobs together. */
  ownerRunningCount(ownerId: number): Promise<number>;
  /** The owner's tasks with instances running now, with how many (what their CPU quota counts). */
  ownerRunningTasks(ownerId: number): Promise<{ task: TaskSpec; running: number }[]>;
  /** Writes `next` over a cluster only if it is still `expected` and Active; false when it was not. */
  replaceCluster(expected: ClusterRecord, next: ClusterRecord): Promise<boolean>;
  /** Instances a cluster is asked for now: queued on it, and running on its workers. */
  clusterDemand(clusterId: string): Promise<number>;
  /** Runnable tasks waiting for an AutoCluster (on AUTO_CLUSTER_PENDING), oldest first. */
  listAutoClusterCandidates(limit: number): Promise<AutoClusterCandidate[]>;
  /** Moves every task (and its queued instances) of one cluster to another; returns how many tasks. */
  moveClusterTasks(fromClusterId: string, toClusterId: string): Promise<number>;
  /**
   * Creates the AutoCluster of `cluster.autoFor`'s task and moves the task and its queued instances onto
   * it, in one transaction; false (nothing written) when the task no longer waits for one.
   */
  createAutoCluster(cluster: ClusterRecord): Promise<boolean>;
  /** Deletes an AutoCluster whose task ended; the task waits for a new one if its job runs again. */
  releaseAutoCluster(cluster: ClusterRecord): Promise<boolean>;
  /** A cluster's workers (of one group, if given) by id. */
  listWorkers(query: ListWorkersQuery): Promise<Page<WorkerRecord>>;
  /** How many attempts each of these workers runs now (workers running none are left out). */
  runningOnWorkers(workerIds: readonly string[]): Promise<Map<string, number>>;
  getWorker(id: string): Promise<WorkerRecord | undefined>;
  /** Marks a worker Deleting (it takes no new work) or Running again; false if there is none. */
  setWorkerState(id: string, state: 'Running' | 'Deleting'): Promise<boolean>;
  /** Forgets a worker; its running attempts are re-queued when their leases expire. */
  deleteWorker(id: string): Promise<boolean>;

  createWorkerToken(token: WorkerTokenRecord): Promise<void>;
  getWorkerToken(id: string): Promise<WorkerTokenRecord | undefined>;
  /** A cluster's tokens, oldest first. */
  listWorkerTokens(clusterId: string): Promise<WorkerTokenRecord[]>;
  deleteWorkerToken(id: string): Promise<boolean>;

  close(): Promise<void>;
}
