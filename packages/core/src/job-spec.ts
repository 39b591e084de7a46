/**
 * The validated, normalised form of a submitted JobDescription (camelCase, defaults applied).
 * The submitted JSON itself is kept verbatim for `GET /jobs/{id}?description`.
 */
import type { RetryRule } from './retry-rules.js';
import type { InputMappingEntry, OutputMappingEntry } from './attempt.js';
import type { TaskImage } from './images.js';
import type { HostMount, MountEntry } from './mounts.js';

export interface AutoClusterSpec {
  readonly imageId: string;
  readonly ecsImageId: string;
  readonly instanceType: string;
  readonly resourceType: string;
  readonly reserveOnFail: boolean;
  /** AttachCluster: the existing (usually elastic) cluster the task joins; absent for an AutoCluster. */
  readonly clusterId?: string;
  readonly userData: Readonly<Record<string, string>>;
}

export interface TaskSpec {
  readonly name: string;
  readonly instanceCount: number;
  /** Per-attempt wall-clock limit in seconds (wire `Timeout`), at least 1. */
  readonly timeoutSec: number;
  readonly maxRetryCount: number;
  /**
   * Shoal addition (Slurm's `%N`): at most this many of the task's instances run at once; absent = no
   * cap beyond the workers'.
   */
  readonly maxRunningInstances?: number;
  /** Shoal addition (RetryStrategy.EvaluateOnExit): which failures retry and which fail at once. */
  readonly retryRules?: readonly RetryRule[];
  /** Shoal addition (RetryStrategy.BackoffSeconds): how long a retried instance waits before it runs again. */
  readonly retryBackoffSec?: number;
  /** Set when the task runs on an existing cluster; '' otherwise. */
  readonly clusterId: string;
  /** Set when the task runs on a cluster created for it; null otherwise. */
  readonly autoCluster: AutoClusterSpec | null;
  readonly commandLine: string;
  readonly packagePath: string;
  readonly envVars: Readonly<Record<string, string>>;
  /** oss:// directory (ending in '/') for stdout logs, or ''. */
  readonly stdoutRedirectPath: string;
  readonly stderrRedirectPath: string;
  readonly inputMappings: readonly InputMappingEntry[];
  readonly outputMappings: readonly OutputMappingEntry[];
  readonly logMappings: readonly OutputMappingEntry[];
  readonly writeSupport: boolean;
  /**
   * Whether commands may use the network (Shoal's TaskDescription.NetworkAccess, default true). Specs
   * stored before the field existed lack it: read it with `taskNetworkAccess`.
   */
  readonly networkAccess?: boolean;
  /** Mounts.Entries (and AutoCluster.Configs.Mounts) as given; resolved at submit into the fields below. */
  readonly mounts?: readonly MountEntry[];
  /** nas:// and file:// mounts resolved to host directories under the server's --allow-mount rules. */
  readonly hostMounts?: readonly HostMount[];
  /** Docker asked for by the task itself (Command.Docker.Image, BATCH_COMPUTE_DOCKER_*), if it did. */
  readonly docker?: { readonly image: string; readonly archive: string };
  /**
   * The image it runs in, resolved when the job was accepted (from `docker` or AutoCluster.ImageId).
   * Specs stored before images existed lack it: read it with `taskImage`.
   */
  readonly image?: TaskImage;
}

export function taskImage(spec: TaskSpec): TaskImage {
  return spec.image ?? { id: 'img-ubuntu', kind: 'System', source: '', archive: '' };
}

export function taskNetworkAccess(spec: TaskSpec): boolean {
  return spec.networkAccess ?? true;
}

export interface NotificationSpec {
  readonly topicName: string;
  readonly endpoint: string;
  readonly events: readonly string[];
}

export interface JobSpec {
  readonly name: string;
  readonly description: string;
  /** 0..1000, larger runs first. */
  readonly priority: number;
  readonly jobFailOnInstanceFail: boolean;
  readonly autoRelease: boolean;
  readonly notification: NotificationSpec | null;
  /** Tasks in a topological order (every task after all of its predecessors). */
  readonly tasks: readonly TaskSpec[];
  /** Predecessors of each task name (the inverse of the wire `DAG.Dependencies`). */
  readonly predecessors: Readonly<Record<string, readonly string[]>>;
}

export const PRIORITY_MIN = 0;
export const PRIORITY_MAX = 1000;
