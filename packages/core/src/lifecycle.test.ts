import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptResult } from './attempt.js';
import { judgeAttempt, jobOperationAllowed, settledJobState, settledTaskState } from './lifecycle.js';
import { emptyCounts } from './states.js';

const base: AttemptResult = {
  attemptId: 'j.t.0.1',
  exitCode: 0,
  signal: null,
  startedAtUs: 1,
  endedAtUs: 2,
  durationMs: 0,
  errorCode: '',
  errorMessage: '',
  detail: '',
};
const failed: AttemptResult = { ...base, exitCode: 3, errorCode: 'NonZeroExitCode', errorMessage: 'exit 3' };

test('an attempt that exits 0 finishes the instance', () => {
  assert.equal(judgeAttempt(base, 0, 0), 'Finished');
});

test('failures retry until MaxRetryCount retries were made', () => {
  assert.equal(judgeAttempt(failed, 0, 2), 'Retry');
  assert.equal(judgeAttempt(failed, 1, 2), 'Retry');
  assert.equal(judgeAttempt(failed, 2, 2), 'Failed');
  assert.equal(judgeAttempt(failed, 0, 0), 'Failed');
});

test('a timed-out attempt is a failure even though the process had no exit code', () => {
  assert.equal(judgeAttempt({ ...base, exitCode: null, errorCode: 'Timeout' }, 0, 0), 'Failed');
});

test('retry rules: the first matching rule decides; EXIT fails at once, RETRY within MaxRetryCount', () => {
  const rules = [
    { onExitCode: '137', action: 'RETRY' as const },
    { onErrorCode: 'OutOfMemory', action: 'EXIT' as const },
    { onExitCode: '1*', action: 'EXIT' as const },
  ];
  const exit = (code: number | null, errorCode: AttemptResult['errorCode'] = 'NonZeroExitCode') => ({
    ...base,
    exitCode: code,
    errorCode,
  });
  assert.equal(judgeAttempt(exit(137), 0, 2, rules), 'Retry');
  assert.equal(judgeAttempt(exit(137), 2, 2, rules), 'Failed');
  assert.equal(judgeAttempt(exit(1), 0, 2, rules), 'Failed');
  assert.equal(judgeAttempt(exit(12), 0, 2, rules), 'Failed');
  assert.equal(judgeAttempt(exit(137, 'OutOfMemory'), 0, 2, rules), 'Retry');
  assert.equal(judgeAttempt(exit(null, 'OutOfMemory'), 0, 2, rules), 'Failed');
  // No rule matches: MaxRetryCount alone decides.
  assert.equal(judgeAttempt(exit(3), 0, 2, rules), 'Retry');
  assert.equal(judgeAttempt(exit(null, 'Timeout'), 0, 2, [{ onExitCode: '*', action: 'EXIT' }]), 'Failed');
  assert.equal(judgeAttempt(base, 0, 0, [{ onExitCode: '*', action: 'EXIT' }]), 'Finished');
});

test('task settles only when nothing waits or runs', () => {
  assert.equal(settledTaskState({ ...emptyCounts(), finished: 2, running: 1 }, true), undefined);
  assert.equal(settledTaskState({ ...emptyCounts(), finished: 3 }, true), 'Finished');
  assert.equal(settledTaskState({ ...emptyCounts(), finished: 2, failed: 1 }, true), 'Failed');
  assert.equal(settledTaskState({ ...emptyCounts(), finished: 2, failed: 1 }, false), 'Finished');
  assert.equal(settledTaskState({ ...emptyCounts(), finished: 2, stopped: 1 }, true), 'Stopped');
});

test('job settles on a failed task or when all tasks finished', () => {
  assert.equal(settledJobState({ ...emptyCounts(), finished: 1, waiting: 1 }, 2), undefined);
  assert.equal(settledJobState({ ...emptyCounts(), finished: 2 }, 2), 'Finished');
  assert.equal(settledJobState({ ...emptyCounts(), failed: 1, waiting: 1 }, 2), 'Failed');
});

test('operations per state', () => {
  assert.ok(jobOperationAllowed('stop', 'Running'));
  assert.ok(!jobOperationAllowed('stop', 'Finished'));
  assert.ok(jobOperationAllowed('delete', 'Stopped'));
  assert.ok(!jobOperationAllowed('delete', 'Waiting'));
  assert.ok(jobOperationAllowed('start', 'Failed'));
});
