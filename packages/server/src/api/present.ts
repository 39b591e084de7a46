/** Records -> wire shapes (spec §6): the one place that knows PascalCase field names of responses. */
import type {
  InstanceRecord,
  JobRecord,
  StateCounts,
  TaskRecord,
  WireInstance,
  WireJob,
  WireMetrics,
  WireTask,
} from '@shoal/core';
import { formatTime, joinObjectUri, logObjectName, parseObjectUri } from '@shoal/core';

export function presentMetrics(counts: StateCounts): WireMetrics {
  return {
    WaitingCount: counts.waiting,
    RunningCount: counts.running,
    FinishedCount: counts.finished,
    FailedCount: counts.failed,
    StoppedCount: counts.stopped,
  };
}

export function presentJob(job: JobRecord): WireJob {
  return {
    Id: job.id,
    Name: job.name,
    OwnerId: job.ownerId,
    Owner: job.ownerName,
    Description: job.description,
    Priority: job.priority,
    State: job.state,
    Message: job.message,
    CreationTime: formatTime(job.createdAtUs),
    StartTime: formatTime(job.startedAtUs),
    EndTime: formatTime(job.endedAtUs),
    TaskMetrics: presentMetrics(job.taskCounts),
    InstanceMetrics: presentMetrics(job.instanceCounts),
    JobFailOnInstanceFail: job.jobFailOnInstanceFail,
    AutoRelease: job.autoRelease,
  };
}

export function presentTask(task: TaskRecord): WireTask {
  return {
    TaskName: task.name,
    State: task.state,
    StartTime: formatTime(task.startedAtUs),
    EndTime: formatTime(task.endedAtUs),
    InstanceMetrics: presentMetrics(task.counts),
    InstanceCount: task.instanceCount,
    Dependencies: [...task.predecessors],
  };
}

function logPath(dir: string, stream: 'stdout' | 'stderr', task: TaskRecord, instanceId: number): string {
  if (!dir) return '';
  const uri = joinObjectUri(parseObjectUri(dir), logObjectName(stream, task.jobId, task.name, instanceId));
  return `${uri.scheme}://${uri.bucket}/${uri.key}`;
}

/**
 * ExitCode is a number on the wire; -1 says the command produced none (never started, killed, timed out), so
 * that no client reads a stopped or failed instance as one that exited 0. Waiting and running ones show 0.
 */
function exitCodeOf(instance: InstanceRecord): number {
  if (instance.exitCode !== null) return instance.exitCode;
  const ended = instance.state === 'Stopped' || instance.state === 'Failed';
  return ended || instance.errorCode ? -1 : 0;
}

/** A stopped instance says so even when it never ran (it then has no error of its own). */
function errorOf(instance: InstanceRecord): { code: string; message: string } {
  if (instance.state !== 'Stopped' || instance.errorCode)
    return { code: instance.errorCode, message: instance.errorMessage };
  return {
    code: 'Stopped',
    message: instance.startedAtUs
      ? 'the job was stopped while this instance ran'
      : 'the job was stopped before this instance ran',
  };
}

export function presentInstance(task: TaskRecord, instance: InstanceRecord): WireInstance {
  const error = errorOf(instance);
  return {
    InstanceId: instance.instanceId,
    State: instance.state,
    StartTime: formatTime(instance.startedAtUs),
    EndTime: formatTime(instance.endedAtUs),
    RetryCount: instance.retryCount,
    Progress: instance.state === 'Finished' ? 100 : 0,
    StdoutRedirectPath: logPath(task.spec.stdoutRedirectPath, 'stdout', task, instance.instanceId),
    StderrRedirectPath: logPath(task.spec.stderrRedirectPath, 'stderr', task, instance.instanceId),
    Result: {
      ExitCode: exitCodeOf(instance),
      ErrorCode: error.code,
      ErrorMessage: error.message,
      Detail: instance.detail,
    },
    Error: { Code: error.code, Message: error.message },
    Outputs: {},
    NodeIp: instance.workerId ? '127.0.0.1' : '',
    AttemptCount: instance.attemptCount,
    WorkerId: instance.workerId,
    Usage: {
      CpuSeconds: instance.cpuMs === null ? null : instance.cpuMs / 1000,
      PeakMemoryBytes: instance.peakMemoryBytes,
    },
  };
}
