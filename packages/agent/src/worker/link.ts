/**
 * The worker protocol, worker side: what a worker asks of the scheduler. The embedded worker reaches the
 * server's gateway in process; `shoal agent` reaches it over HTTP with a worker token. Either way the
 * worker loop is the same, so there is one scheduler path.
 */
import type { Assignment, AttemptResult, ExchangeOptions } from '@shoal/core';

export interface WorkerIdentity {
  readonly workerId: string;
  readonly clusterId: string;
  readonly groupName: string;
  readonly hostname: string;
  readonly slots: number;
  /** What its machine holds, if it says: then the attempts it runs at once must fit in it together. */
  readonly cpuMillis?: number;
  readonly memoryBytes?: number;
}

export interface Registered {
  readonly leaseMs: number;
  /** Attempts this worker held before (it restarted): re-queued without consuming a retry. */
  readonly requeued: readonly string[];
}

export interface HeartbeatReply {
  /** Attempts the worker must stop (their job was stopped, or they are no longer this worker's). */
  readonly cancel: readonly string[];
  /** The worker was asked to leave its cluster: finish what it runs, claim nothing new. */
  readonly drain: boolean;
}

export interface WorkerSignals {
  /** New work may be claimable. */
  readonly work: () => void;
  /** Running attempts may have to stop: heartbeat now. */
  readonly cancel: () => void;
}

export interface WorkerLink {
  register(worker: WorkerIdentity): Promise<Registered>;
  /**
   * Reports ended attempts, then claims up to `want` new ones, in one exchange (see ExchangeOptions for
   * attempts claimed ahead and given back).
   */
  exchange(
    workerId: string,
    results: readonly AttemptResult[],
    want: number,
    options?: ExchangeOptions,
  ): Promise<Assignment[]>;
  /** Renews the leases of the attempts the worker holds. */
  heartbeat(workerId: string, held: readonly string[]): Promise<HeartbeatReply>;
  /**
   * The worker leaves its cluster for good (it drained): what it still held is re-queued, and it is no
   * longer listed, instead of showing as a worker that stopped heartbeating.
   */
  leave(workerId: string): Promise<void>;
  /** Calls the signals as the server sends them, until the returned function is called. */
  watch(workerId: string, signals: WorkerSignals): () => void;
}

/** A worker's log output of one attempt: the files its stdout and stderr go to. */
export interface AttemptFiles {
  readonly stdoutFile: string;
  readonly stderrFile: string;
}

/** Where a worker puts an attempt's logs, and what it does with them once the attempt ended. */
export interface AttemptLogs {
  /** The files of the attempt's stdout and stderr (their directory exists once this resolves). */
  files(assignment: Assignment): Promise<AttemptFiles>;
  /** After the attempt ended, before its result is reported (a remote worker sends the logs to the server). */
  ended?(assignment: Assignment, files: AttemptFiles): Promise<void>;
}

/** The part of a logger the worker uses; a pino logger is one. */
export interface WorkerLog {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}
