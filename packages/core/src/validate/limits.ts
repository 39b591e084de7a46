/**
 * Bounds and defaults of a JobDescription, in one place so the validator, its tests, the API docs and
 * the console quote the same numbers.
 */

export const LIMITS = Object.freeze({
  maxTasks: 1000,
  /**
   * Per task, what the store can number (instance ids are 32-bit in PostgreSQL); what a user may ask for
   * is their quota InstancesPerJob (default 1,000,000, --max-instances-per-job).
   */
  maxInstanceCount: 100_000_000,
  maxTimeoutSec: 2_000_000,
  maxRetryCount: 100,
  maxNameLength: 100,
  maxDescriptionLength: 1000,
  /** CommandLine is passed to a shell; 64 KiB stays well under ARG_MAX on every platform. */
  maxCommandLineBytes: 64 * 1024,
});

/** Values used when the submitter leaves a field out (the CLI's defaults, spec §8.2). */
export const JOB_DEFAULTS = Object.freeze({
  priority: 1,
  jobFailOnInstanceFail: true,
  autoRelease: false,
  instanceCount: 1,
  timeoutSec: 86400,
  maxRetryCount: 0,
  resourceType: 'OnDemand',
  writeSupport: true,
  networkAccess: true,
});

/** Job notification events a Topic may subscribe to (spec §5.7; the CLI validates against the same list). */
export const JOB_EVENTS: readonly string[] = Object.freeze([
  'OnJobWaiting',
  'OnJobRunning',
  'OnJobStopped',
  'OnJobFinished',
  'OnJobFailed',
  'OnTaskWaiting',
  'OnTaskRunning',
  'OnTaskStopped',
  'OnTaskFinished',
  'OnTaskFailed',
  'OnInstanceWaiting',
  'OnInstanceRunning',
  'OnInstanceStopped',
  'OnInstanceFinished',
  'OnInstanceFailed',
  'OnPriorityChange',
]);

export const RESOURCE_TYPES: readonly string[] = Object.freeze(['OnDemand', 'Spot']);

/** Job and task names (DOC-CJA); also safe in object keys and log file names (`stdout.<job>.<task>.<iid>`). */
export const NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
export const NAME_RULE = `must be 1-${LIMITS.maxNameLength} characters of A-Z, a-z, 0-9, '_' and '-'`;
