/**
 * The worker protocol, server side: what any worker (the in-process local worker, a remote agent over HTTP)
 * can ask of the scheduler. Workers pull: they report ended attempts and claim new ones in one exchange,
 * and renew their leases by heartbeat, learning which of their attempts to cancel.
 */
import { EventEmitter } from 'node:events';
import type {
  ExchangeOptions,
  Assignment,
  AttemptResult,
  ClaimedAttempt,
  ClaimLimits,
  Clock,
  HeldInstance,
  InstanceTypeSpec,
  Store,
} from '@shoal/core';
import {
  DEFAULT_CLUSTER_ID,
  groupInstanceType,
  joinObjectUri,
  limitsOf,
  LOCAL_INSTANCE_TYPE,
  logObjectName,
  parseObjectUri,
  taskImage,
  taskNetworkAccess,
} from '@shoal/core';

export interface GatewayOptions {
  readonly leaseMs: number;
  readonly region: string;
  readonly ossHost: string;
  /** The instance types on offer; `shoal.local` among them. */
  readonly catalog: readonly InstanceTypeSpec[];
  /** The owners' quotas claims respect (running instances). */
  readonly limits?: ClaimLimits;
}

export interface WorkerRegistration {
  readonly workerId: string;
  readonly clusterId: string;
  readonly groupName: string;
  readonly hostname: string;
  readonly slots: number;
  readonly cpuMillis?: number;
  readonly memoryBytes?: number;
}

function redirectPath(dir: string, stream: 'stdout' | 'stderr', claim: ClaimedAttempt): string {
  if (!dir) return '';
  const name = logObjectName(stream, claim.jobId, claim.taskName, claim.instanceId);
  const uri = joinObjectUri(parseObjectUri(dir), name);
  return `${uri.scheme}://${uri.bucket}/${uri.key}`;
}

/**
 * The limits of a task's instance type. Types are checked at submit; one removed from the catalog since
 * falls back to `shoal.local` rather than leaving the attempt without limits.
 */
function instanceTypeOf(
  claim: ClaimedAttempt,
  catalog: readonly InstanceTypeSpec[],
  workerType: string | undefined,
): InstanceTypeSpec {
  // On a cluster of its own the worker's group says the shape; on cls-local the task's AutoCluster does.
  const name = workerType || claim.task.autoCluster?.instanceType || LOCAL_INSTANCE_TYPE;
  return catalog.find((t) => t.name === name) ?? catalog.find((t) => t.name === LOCAL_INSTANCE_TYPE)!;
}

export function toAssignment(
  claim: ClaimedAttempt,
  options: GatewayOptions,
  workerType?: string,
): Assignment {
  const task = claim.task;
  return {
    attemptId: claim.attemptId,
    ownerId: claim.ownerId,
    jobId: claim.jobId,
    taskName: claim.taskName,
    instanceId: claim.instanceId,
    instanceCount: task.instanceCount,
    attemptNo: claim.attemptNo,
    priority: claim.priority,
    commandLine: task.commandLine,
    packagePath: task.packagePath,
    envVars: task.envVars,
    timeoutMs: task.timeoutSec * 1000,
    inputMappings: task.inputMappings,
    outputMappings: task.outputMappings,
    logMappings: task.logMappings,
    stdoutRedirectPath: redirectPath(task.stdoutRedirectPath, 'stdout', claim),
    stderrRedirectPath: redirectPath(task.stderrRedirectPath, 'stderr', claim),
    clusterId: task.clusterId || 'auto',
    region: options.region,
    ossHost: options.ossHost,
    limits: limitsOf(instanceTypeOf(claim, options.catalog, workerType)),
    networkAccess: taskNetworkAccess(task),
    image: taskImage(task),
    hostMounts: task.hostMounts ?? [],
  };
}

export class WorkerGateway {
  /** 'work' fires when new work may be claimable; 'cancel' when running attempts may have to stop. */
  readonly signals = new EventEmitter();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: GatewayOptions,
  ) {
    this.signals.setMaxListeners(100);
  }

  /**
   * Registers a worker. A worker that registers again under the same id has restarted: whatever it was
   * running was cut off and goes back to the queue without consuming a retry.
   */
  async register(worker: WorkerRegistration): Promise<{ leaseMs: number; requeued: string[] }> {
    const now = this.clock.nowUs();
    await this.store.registerWorker(
      {
        id: worker.workerId,
        clusterId: worker.clusterId,
        groupName: worker.groupName,
        hostname: worker.hostname,
        slots: worker.slots,
        ...(worker.cpuMillis !== undefined ? { cpuMillis: worker.cpuMillis } : {}),
        ...(worker.memoryBytes !== undefined ? { memoryBytes: worker.memoryBytes } : {}),
      },
      now,
    );
    const requeued = await this.store.releaseWorkerAttempts(worker.workerId, now);
    if (requeued.length) this.notifyWork();
    return { leaseMs: this.options.leaseMs, requeued };
  }

  /** A worker leaves its cluster: anything it still held runs again elsewhere, and its row goes. */
  async leave(workerId: string): Promise<void> {
    const requeued = await this.store.releaseWorkerAttempts(workerId, this.clock.nowUs());
    await this.store.deleteWorker(workerId);
    this.workerTypes.delete(workerId);
    if (requeued.length) this.notifyWork();
  }

  /**
   * Records ended attempts, then claims up to `want` new ones, `ahead` of them beyond the worker's free
   * slots (claimed ahead); first takes back the `returned` attempts (claimed ahead, never started).
   */
  async exchange(
    workerId: string,
    results: readonly AttemptResult[],
    want: number,
    options: ExchangeOptions = {},
  ): Promise<Assignment[]> {
    const now = this.clock.nowUs();
    const ahead = options.ahead ?? 0;
    if (options.returned?.length) {
      const returned = await this.store.returnAttempts(workerId, options.returned, now);
      if (returned.length) this.notifyWork();
    }
    if (want <= 0) {
      if (results.length) await this.store.finishAttempts(workerId, results, now);
      return [];
    }
    const claimed = await this.store.exchangeAttempts(
      workerId,
      results,
      want,
      now,
      now + this.options.leaseMs * 1000,
      this.options.limits,
      ahead,
    );
    if (claimed.length === 0) return [];
    const workerType = await this.workerInstanceType(workerId);
    return claimed.map((claim) => toAssignment(claim, this.options, workerType));
  }

  /**
   * The assignment of the attempt a worker holds of one instance, or undefined: a Slurm array element
   * learns what to run this way, by its job, task and array index.
   */
  async heldAssignment(workerId: string, of: HeldInstance): Promise<Assignment | undefined> {
    const [claim] = await this.store.listHeldAttempts(workerId, of);
    if (!claim) return undefined;
    return toAssignment(claim, this.options, await this.workerInstanceType(workerId));
  }

  /**
   * Re-queues some of a worker's attempts without consuming a retry: the machine under them failed or
   * was taken away, which is not the command's fault.
   */
  async release(workerId: string, attemptIds: readonly string[], reason: string): Promise<string[]> {
    const released = await this.store.releaseAttempts(workerId, attemptIds, this.clock.nowUs(), reason);
    if (released.length) this.notifyWork();
    return released;
  }

  private readonly workerTypes = new Map<string, { type: string | undefined; atMs: number }>();

  /** The instance type of a worker's group (undefined on the default cluster); cached for seconds. */
  private async workerInstanceType(workerId: string): Promise<string | undefined> {
    const now = Date.now();
    const hit = this.workerTypes.get(workerId);
    if (hit && now - hit.atMs < 10_000) return hit.type;
    const worker = await this.store.getWorker(workerId);
    let type: string | undefined;
    if (worker && worker.clusterId !== DEFAULT_CLUSTER_ID) {
      const cluster = await this.store.getCluster(worker.clusterId);
      type = cluster ? groupInstanceType(cluster, worker.groupName) : undefined;
    }
    if (this.workerTypes.size > 10_000) this.workerTypes.clear();
    this.workerTypes.set(workerId, { type, atMs: now });
    return type;
  }

  /**
   * Renews the worker's leases; returns the attempts it must cancel, and whether it was asked to leave
   * its cluster (then it finishes what it holds and claims nothing new).
   */
  async heartbeat(
    workerId: string,
    runningAttemptIds: readonly string[],
  ): Promise<{ cancel: string[]; drain: boolean }> {
    const now = this.clock.nowUs();
    const cancel = await this.store.renewLeases(
      workerId,
      runningAttemptIds,
      now,
      now + this.options.leaseMs * 1000,
    );
    const worker = await this.store.getWorker(workerId);
    return { cancel, drain: !worker || worker.state === 'Deleting' };
  }

  notifyWork(): void {
    this.signals.emit('work');
  }

  notifyCancel(): void {
    this.signals.emit('cancel');
  }
}
