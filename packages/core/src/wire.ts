/**
 * Wire shapes of the BatchCompute 2015-11-11 API (PascalCase JSON, spec §5–§6), shared by the server's
 * routes, the SDK and the console so they cannot drift apart.
 */
import type { State } from './states.js';

export interface WireMetrics {
  WaitingCount: number;
  RunningCount: number;
  FinishedCount: number;
  FailedCount: number;
  StoppedCount: number;
}

export interface WireJob {
  Id: string;
  Name: string;
  OwnerId: number;
  Owner: string;
  Description: string;
  Priority: number;
  State: State;
  Message: string;
  CreationTime: string;
  StartTime: string;
  EndTime: string;
  TaskMetrics: WireMetrics;
  InstanceMetrics: WireMetrics;
  JobFailOnInstanceFail: boolean;
  AutoRelease: boolean;
}

/**
 * Shoal addition: why a Waiting task or instance does not run yet. Codes: WaitingForTasks,
 * RetryBackoff, WaitingForCluster, NoWorker, TaskConcurrencyCap, QuotaRunningInstances, QuotaCpuCores,
 * Queued, Starting.
 */
export interface WirePendingReason {
  Code: string;
  Message: string;
  /** WaitingForTasks: the predecessors not finished yet. */
  Tasks?: string[];
  ClusterId?: string;
  /** Queued: 1 = the next its cluster's workers take. */
  QueuePosition?: number;
}

export interface WireTask {
  TaskName: string;
  State: State;
  StartTime: string;
  EndTime: string;
  InstanceMetrics: WireMetrics;
  InstanceCount: number;
  Dependencies: string[];
  PendingReason?: WirePendingReason;
}

export interface WireInstanceResult {
  ExitCode: number;
  ErrorCode: string;
  ErrorMessage: string;
  Detail: string;
}

export interface WireInstance {
  InstanceId: number;
  State: State;
  StartTime: string;
  EndTime: string;
  RetryCount: number;
  Progress: number;
  StdoutRedirectPath: string;
  StderrRedirectPath: string;
  Result: WireInstanceResult;
  Error: { Code: string; Message: string };
  Outputs: Record<string, string>;
  NodeIp: string;
  /** Shoal addition: attempts made so far, including ones cut off by a crash. */
  AttemptCount: number;
  /** Shoal addition: worker (cluster instance) that ran the latest attempt. */
  WorkerId: string;
  /**
   * Shoal addition: what the last ended attempt used, measured by its cgroup; null fields where it was not
   * measured (unsandboxed, or no cgroups on its worker).
   */
  Usage: { CpuSeconds: number | null; PeakMemoryBytes: number | null };
  PendingReason?: WirePendingReason;
}

export interface WireImage {
  Id: string;
  Name: string;
  /** `System` for the built-in images (`GET /images?Type=System`), `Self` for a user's own. */
  Type: 'System' | 'Self';
  Description: string;
  EcsImageId: string;
  OwnerId: number;
  Platform: string;
  CreationTime: string;
  /** Shoal additions: what the image is (System, RootFs, Docker), its archive or reference, and an archive to load. */
  Kind: 'System' | 'RootFs' | 'Docker';
  Source: string;
  ArchivePath: string;
}

export interface WireList<T> {
  NextMarker: string;
  Items: T[];
}

export interface WireError {
  Code: string;
  Message: string;
  RequestId: string;
  HostId: string;
}

export interface WireCreated {
  Id: string;
}

/** Shoal addition: one entry of the events outbox (`GET /events`). */
export interface WireEvent {
  Seq: number;
  Time: string;
  Type: string;
  JobId: string;
  TaskName: string;
  InstanceId: number | null;
  State: string;
  Detail: Record<string, unknown>;
}

export interface WireQuota {
  AvailableClusterInstanceDataDiskType: string[];
  AvailableClusterInstanceSystemDiskType: string[];
  AvailableClusterInstanceType: string[];
  AvailableClusterResourceType: string[];
  AvailableSpotInstanceType: string[];
  /** Shoal addition: the caller's quotas (core/quotas.ts) and their use. */
  Limits?: {
    Clusters: number;
    Jobs: number;
    TasksPerJob: number;
    InstancesPerJob: number;
    /** null = no limit. */
    RunningInstances: number | null;
    CpuCores: number | null;
  };
  Usage?: { Clusters: number; Jobs: number };
}

export interface WireInstanceType {
  InstanceType: string;
  /** Whole cores, as in BatchCompute; `Cpu` has the exact figure. */
  CpuCore: number;
  /** GiB, rounded as in BatchCompute; `MemoryMiB` has the exact figure. */
  MemorySize: number;
  Network: { Classic: boolean; Vpc: boolean };
  /** Shoal additions: the exact limits an attempt of this type runs within. */
  Cpu: number;
  MemoryMiB: number;
  ProcessLimit: number;
}

/** Shoal addition to `GET /available`: how this server's attempts are confined. */
export interface WireSandbox {
  /** 'bwrap', or 'off' when commands run unconfined as the server's user. */
  Mode: 'bwrap' | 'off';
  /** Whether instance-type limits are enforced (cgroups). */
  Limits: boolean;
  /** What an operator should know: why the sandbox is off, or why limits are not enforced; '' if nothing. */
  Warning: string;
  /** Whether tasks may run in Docker images (a worker has a Docker engine). */
  Docker: boolean;
}

export interface WireAvailable {
  AvailableClusterInstanceType: WireInstanceType[];
  AvailableSpotInstanceType: WireInstanceType[];
  AvailablePrepaidInstanceType: WireInstanceType[];
  AvailableResourceType: string[];
  AvailableSystemDiskType: string[];
  AvailableDataDiskType: string[];
  Sandbox: WireSandbox;
}

/** A cluster group as `GET /clusters/{id}` shows it (spec §6.4). */
export interface WireClusterGroup {
  DesiredVMCount: number;
  /** Workers of the group that heartbeat and take work. */
  ActualVMCount: number;
  InstanceType: string;
  ResourceType: string;
  SpotStrategy: string;
  SpotPriceLimit: number;
  Disks: Record<string, unknown>;
  /** Shoal addition, elastic groups only: the bounds Shoal scales DesiredVMCount within. */
  MinVMCount?: number;
  MaxVMCount?: number;
}

/** Spec §6.4, plus Shoal's `Provider`. */
export interface WireCluster {
  Id: string;
  Name: string;
  OwnerId: number;
  Description: string;
  CreationTime: string;
  State: string;
  ImageId: string;
  InstanceType: string;
  UserData: Record<string, string>;
  EnvVars: Record<string, string>;
  InputMapping: Record<string, string>;
  InputMappingConfig: { Locale: string; Lock: boolean };
  Notification: unknown;
  Configs: unknown;
  WriteSupport: boolean;
  Bootstrap: string;
  SecurityGroup: string;
  Groups: Record<string, WireClusterGroup>;
  OperationLogs: unknown[];
  Metrics: { RunningCount: number; StartingCount: number; StoppingCount: number; StoppedCount: number };
  Provider: string;
}

/** A worker as the API calls it: a cluster VM (spec §6.5), plus Shoal's `Slots` and `LastHeartbeatTime`. */
export interface WireClusterInstance {
  Id: string;
  Hint: string;
  /** Running (heartbeats, takes work), Deleting (asked to leave) or Stopped (no heartbeat within a lease). */
  State: string;
  IpAddress: string;
  HostName: string;
  ErrorCode: number;
  ErrorMessage: string;
  CreationTime: string;
  InstancePassword: string;
  Slots: number;
  LastHeartbeatTime: string;
  /** Shoal addition: attempts it runs now (its load, against Slots). */
  RunningInstances: number;
}
