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

export interface WireTask {
  TaskName: string;
  State: State;
  StartTime: string;
  EndTime: string;
  InstanceMetrics: WireMetrics;
  InstanceCount: number;
  Dependencies: string[];
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
}

export interface WireInstanceType {
  InstanceType: string;
  CpuCore: number;
  MemorySize: number;
  Network: { Classic: boolean; Vpc: boolean };
}

export interface WireAvailable {
  AvailableClusterInstanceType: WireInstanceType[];
  AvailableSpotInstanceType: WireInstanceType[];
  AvailablePrepaidInstanceType: WireInstanceType[];
  AvailableResourceType: string[];
  AvailableSystemDiskType: string[];
  AvailableDataDiskType: string[];
}
