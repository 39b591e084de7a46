/**
 * Which Mounts a job may have (seed 002): `oss://` ones become read-only inputs (the objects staged at
 * the destination, the bucket checked like any other), `nas://` and `file://` ones must lie under a rule
 * of the server's operator (`--allow-mount`). Resolved once, at submit; errors name the entry.
 */
import type { JobSpec, MountRule, TaskSpec } from '@shoal/core';
import { invalidJob, mountSchemeOf, resolveHostMount } from '@shoal/core';

export function resolveMounts(spec: JobSpec, rules: readonly MountRule[]): JobSpec {
  return { ...spec, tasks: spec.tasks.map((task) => resolveTask(task, rules)) };
}

function resolveTask(task: TaskSpec, rules: readonly MountRule[]): TaskSpec {
  if (!task.mounts?.length) return task;
  const inputMappings = [...task.inputMappings];
  const hostMounts: NonNullable<TaskSpec['hostMounts']>[number][] = [];
  const taken = new Map<string, string>(inputMappings.map((m) => [m.destination, 'an InputMapping']));
  for (const entry of task.mounts) {
    const other = taken.get(entry.destination);
    if (other)
      throw invalidJob(
        `${entry.field}.Destination`,
        entry.destination,
        `is also the destination of ${other}`,
      );
    taken.set(entry.destination, entry.field);
    if (mountSchemeOf(entry.source) === 'oss') {
      // A prefix is a directory: an oss:// mount always is one.
      const source = entry.source.endsWith('/') ? entry.source : `${entry.source}/`;
      inputMappings.push({ source, destination: entry.destination });
      continue;
    }
    const host = resolveHostMount(entry.source, rules);
    if (!host) {
      const allowed = rules.map((r) => r.source).join(', ') || 'none';
      throw invalidJob(
        `${entry.field}.Source`,
        entry.source,
        `is not among the mounts this server allows (its operator's --allow-mount: ${allowed})`,
      );
    }
    if (entry.writable && !host.writable)
      throw invalidJob(`${entry.field}.WriteSupport`, true, `this server allows ${entry.source} read-only`);
    hostMounts.push({
      source: entry.source,
      hostPath: host.hostPath,
      destination: entry.destination,
      writable: entry.writable,
    });
  }
  return { ...task, inputMappings, hostMounts };
}
