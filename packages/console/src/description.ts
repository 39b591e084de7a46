/** JobDescriptions as the official clients send them (PascalCase, spec §5.2), built from what a form holds. */

export interface TaskDraft {
  name: string;
  commandLine: string;
  instanceCount: number;
  packagePath: string;
  timeout: number;
  maxRetryCount: number;
}

export function newTask(name: string): TaskDraft {
  return {
    name,
    commandLine: '/bin/echo hello',
    instanceCount: 1,
    packagePath: '',
    timeout: 3600,
    maxRetryCount: 0,
  };
}

export function taskDescription(task: TaskDraft) {
  return {
    InstanceCount: task.instanceCount,
    MaxRetryCount: task.maxRetryCount,
    Timeout: task.timeout,
    ClusterId: '',
    AutoCluster: { ImageId: 'img-ubuntu', InstanceType: 'shoal.local', ResourceType: 'OnDemand' },
    Parameters: {
      Command: { CommandLine: task.commandLine, PackagePath: task.packagePath, EnvVars: {} },
      StdoutRedirectPath: '',
      StderrRedirectPath: '',
    },
  };
}

/** `edges` are [from, to]: `to` runs after `from` (in the description: Dependencies[from] lists `to`). */
export function jobDescription(
  name: string,
  tasks: readonly TaskDraft[],
  edges: readonly [string, string][] = [],
) {
  const dependencies: Record<string, string[]> = {};
  for (const [from, to] of edges) (dependencies[from] ??= []).push(to);
  return {
    Name: name,
    Description: '',
    Priority: 1,
    Type: 'DAG',
    JobFailOnInstanceFail: true,
    AutoRelease: false,
    DAG: {
      Tasks: Object.fromEntries(tasks.map((t) => [t.name, taskDescription(t)])),
      Dependencies: dependencies,
    },
  };
}

/**
 * Where a field path the server names (`DAG.Tasks.count.InstanceCount`) stands in the JSON text: the
 * range of its last key, found by looking for each key in turn after the one before. Undefined when the
 * text does not spell it.
 */
export function fieldRange(text: string, path: string): { start: number; end: number } | undefined {
  let at = 0;
  let found: { start: number; end: number } | undefined;
  for (const key of path.split('.')) {
    const i = text.indexOf(JSON.stringify(key), at);
    if (i < 0) return found;
    found = { start: i, end: i + key.length + 2 };
    at = found.end;
  }
  return found;
}

/** The field path in a server message: "JobDescription field DAG.Tasks.x.Timeout is not valid: …". */
export function fieldOf(message: string): string | undefined {
  return /field ([A-Za-z0-9_.\-[\]]+) /.exec(message)?.[1];
}
