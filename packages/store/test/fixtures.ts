import type { AttemptResult, JobSpec, TaskSpec } from '@shoal/core';

export function taskSpec(name: string, overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    name,
    instanceCount: 1,
    timeoutSec: 60,
    maxRetryCount: 0,
    clusterId: '',
    autoCluster: {
      imageId: 'img-ubuntu',
      ecsImageId: '',
      instanceType: '',
      resourceType: 'OnDemand',
      reserveOnFail: false,
      userData: {},
    },
    commandLine: '/bin/true',
    packagePath: '',
    envVars: {},
    stdoutRedirectPath: '',
    stderrRedirectPath: '',
    inputMappings: [],
    outputMappings: [],
    logMappings: [],
    writeSupport: true,
    ...overrides,
  };
}

/** split -> count (3 instances) -> merge, the log-count job of seed 002. */
export function logCountSpec(overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    name: 'log-count',
    description: 'demo',
    priority: 1,
    jobFailOnInstanceFail: true,
    autoRelease: false,
    notification: null,
    tasks: [taskSpec('split'), taskSpec('count', { instanceCount: 3 }), taskSpec('merge')],
    predecessors: { split: [], count: ['split'], merge: ['count'] },
    ...overrides,
  };
}

export function singleTaskSpec(
  name: string,
  task: Partial<TaskSpec> = {},
  job: Partial<JobSpec> = {},
): JobSpec {
  return {
    name,
    description: '',
    priority: 1,
    jobFailOnInstanceFail: true,
    autoRelease: false,
    notification: null,
    tasks: [taskSpec('task', task)],
    predecessors: { task: [] },
    ...job,
  };
}

export function ok(attemptId: string, at = 1): AttemptResult {
  return {
    attemptId,
    exitCode: 0,
    signal: null,
    startedAtUs: at,
    endedAtUs: at + 1,
    durationMs: 1,
    errorCode: '',
    errorMessage: '',
    detail: '',
  };
}

export function failed(attemptId: string, code = 3): AttemptResult {
  return {
    attemptId,
    exitCode: code,
    signal: null,
    startedAtUs: 1,
    endedAtUs: 2,
    durationMs: 1,
    errorCode: 'NonZeroExitCode',
    errorMessage: `command exited with code ${code}`,
    detail: '',
  };
}

let n = 0;
export function jobId(): string {
  n++;
  return `job-${String(Date.now()).padStart(16, '0')}${String(n).padStart(16, '0')}`;
}
