/**
 * The lifecycle rules of spec §7 as pure functions, so both store backends apply exactly the same policy.
 */
import type { AttemptResult } from './attempt.js';
import { attemptSucceeded } from './attempt.js';
import type { RetryRule } from './retry-rules.js';
import { retryActionFor } from './retry-rules.js';
import type { State, StateCounts } from './states.js';

export type AttemptVerdict = 'Finished' | 'Retry' | 'Failed';

/**
 * What an ended attempt means for its instance. A retry is a new attempt; RetryCount counts retries made,
 * so an instance with MaxRetryCount 2 runs at most 3 attempts that count.
 */
export function judgeAttempt(
  result: AttemptResult,
  retryCount: number,
  maxRetryCount: number,
  rules?: readonly RetryRule[],
): AttemptVerdict {
  if (attemptSucceeded(result)) return 'Finished';
  if (retryActionFor(rules, result) === 'EXIT') return 'Failed';
  return retryCount < maxRetryCount ? 'Retry' : 'Failed';
}

/**
 * The terminal state of a task once none of its instances is Waiting or Running, else undefined.
 * With JobFailOnInstanceFail=false, failed instances stay visible but the task still finishes, so its
 * successors run.
 */
export function settledTaskState(counts: StateCounts, failOnInstanceFail: boolean): State | undefined {
  if (counts.waiting > 0 || counts.running > 0) return undefined;
  if (counts.stopped > 0) return 'Stopped';
  if (counts.failed > 0 && failOnInstanceFail) return 'Failed';
  return 'Finished';
}

/** The terminal state of a job given its task counts, else undefined while tasks remain. */
export function settledJobState(taskCounts: StateCounts, taskTotal: number): State | undefined {
  if (taskCounts.failed > 0) return 'Failed';
  if (taskCounts.finished === taskTotal) return 'Finished';
  return undefined;
}

/** Operations a user may apply per job state (spec §7.1, with Shoal's relaxations documented in docs/api.md). */
export const JOB_OPERATIONS = {
  stop: ['Waiting', 'Running'],
  /** Alibaba allows start from Stopped only; Shoal also re-runs a Failed job's unfinished work. */
  start: ['Stopped', 'Failed'],
  /** Alibaba allows priority changes while Stopped only; Shoal also while the job waits or runs. */
  changePriority: ['Waiting', 'Running', 'Stopped'],
  delete: ['Finished', 'Failed', 'Stopped'],
} as const satisfies Record<string, readonly State[]>;

export type JobOperation = keyof typeof JOB_OPERATIONS;

export function jobOperationAllowed(operation: JobOperation, state: State): boolean {
  return (JOB_OPERATIONS[operation] as readonly State[]).includes(state);
}
