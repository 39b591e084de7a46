import type { TaskImage } from './images.js';
import type { HostMount } from './mounts.js';

/**
 * What a worker is told to run (an assignment: one attempt of one instance) and what it reports back.
 * These shapes are the worker protocol's payloads, shared by the in-process local worker and remote agents.
 */

/** An `oss://` source mapped read-only at a local path before the command starts. */
export interface InputMappingEntry {
  readonly source: string;
  readonly destination: string;
}

/** A local directory uploaded to an `oss://` prefix when the command ends. */
export interface OutputMappingEntry {
  readonly source: string;
  readonly destination: string;
}

/**
 * The shape an attempt runs within, from its instance type: the sandbox enforces these with cgroups.
 * Limits are caps on one attempt, not reservations (each attempt takes one slot of its worker).
 */
export interface AttemptLimits {
  readonly instanceType: string;
  /** CPU time per wall-clock second, in thousandths of a core (1500 = one and a half cores). */
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  /** Processes and threads alive at once. */
  readonly processes: number;
}

export interface Assignment {
  /** `<jobId>.<task>.<instanceId>.<attemptNo>`: unique per attempt. */
  readonly attemptId: string;
  /** The job's owner: attempts of different owners never share a sandbox. */
  readonly ownerId: number;
  readonly jobId: string;
  readonly taskName: string;
  readonly instanceId: number;
  readonly instanceCount: number;
  /** 1 for the first attempt of the instance. */
  readonly attemptNo: number;
  /** The job's priority as queued: of the attempts a worker holds, the highest start first. */
  readonly priority: number;
  readonly commandLine: string;
  /** `oss://.../worker.tar.gz` (or .tgz / .zip), or '' for none. */
  readonly packagePath: string;
  readonly envVars: Readonly<Record<string, string>>;
  /** Wall-clock limit of the command; 0 = none. */
  readonly timeoutMs: number;
  readonly inputMappings: readonly InputMappingEntry[];
  readonly outputMappings: readonly OutputMappingEntry[];
  /** Local log file -> `oss://` dir; uploaded as `<dir><basename>.<jobId>.<task>.<iid>`. */
  readonly logMappings: readonly OutputMappingEntry[];
  /** Full object URI for stdout (`.../stdout.<jobId>.<task>.<iid>`), or '' for none. */
  readonly stdoutRedirectPath: string;
  readonly stderrRedirectPath: string;
  readonly clusterId: string;
  readonly region: string;
  readonly ossHost: string;
  readonly limits: AttemptLimits;
  /** Whether the command may use the network (Shoal's TaskDescription.NetworkAccess). */
  readonly networkAccess: boolean;
  /** The environment it runs in: the worker's OS, a root filesystem, or a Docker image. */
  readonly image: TaskImage;
  /** Host directories mounted into it (its task's nas:// and file:// Mounts, as the server resolved them). */
  readonly hostMounts: readonly HostMount[];
}

/** Why an attempt failed, as stored in `Instance.Result.ErrorCode`. '' means it did not fail. */
export const ATTEMPT_ERROR_CODES = [
  '',
  'NonZeroExitCode',
  'KilledBySignal',
  'Timeout',
  'Stopped',
  'CommandLineInvalid',
  'CommandNotFound',
  'PackageDownloadFailed',
  'PackageExtractFailed',
  'InputMappingFailed',
  'OutputUploadFailed',
  'LogUploadFailed',
  'SandboxUnavailable',
  'ImageUnavailable',
  'OutOfMemory',
  'ProcessLimitExceeded',
  'WorkerLost',
  'SlurmFailure',
  'InternalError',
] as const;

export type AttemptErrorCode = (typeof ATTEMPT_ERROR_CODES)[number];

export interface AttemptResult {
  readonly attemptId: string;
  /** Process exit code; null when the process never started or died of a signal. */
  readonly exitCode: number | null;
  /** Signal name that ended the process (e.g. 'SIGKILL'), or null. */
  readonly signal: string | null;
  readonly startedAtUs: number;
  readonly endedAtUs: number;
  readonly durationMs: number;
  readonly errorCode: AttemptErrorCode;
  readonly errorMessage: string;
  /** Free text for humans (last lines of stderr on failure, staging details). */
  readonly detail: string;
  /** What the attempt's processes used, when its cgroup measured it. */
  readonly usage?: AttemptUsage;
}

export interface AttemptUsage {
  /** CPU time (user + system) of all its processes, in milliseconds; null when not measured. */
  readonly cpuMs: number | null;
  /** Highest memory use at any moment, in bytes; null when not measured. */
  readonly peakMemoryBytes: number | null;
}

export function attemptSucceeded(result: AttemptResult): boolean {
  return result.errorCode === '' && result.exitCode === 0;
}

/** Log object name of spec §7.6: `stdout.<jobId>.<task>.<iid>`. */
export function logObjectName(
  stream: 'stdout' | 'stderr',
  jobId: string,
  taskName: string,
  instanceId: number,
): string {
  return `${stream}.${jobId}.${taskName}.${instanceId}`;
}

/** The result of an attempt that ended without its command running (stopped first, refused, lost). */
export function notRunResult(
  attemptId: string,
  errorCode: AttemptErrorCode,
  errorMessage: string,
  nowUs: number,
  detail = '',
): AttemptResult {
  return {
    attemptId,
    exitCode: null,
    signal: null,
    startedAtUs: nowUs,
    endedAtUs: nowUs,
    durationMs: 0,
    errorCode,
    errorMessage,
    detail,
  };
}
