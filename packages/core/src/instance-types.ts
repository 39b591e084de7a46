import type { TaskSpec } from './job-spec.js';
/**
 * Instance types: named shapes (CPU, memory, processes) an attempt runs within. A server has a catalog,
 * served by `GET /available` and enforced by the sandbox's cgroups. The built-in type `shoal.local` is one
 * slot's share of the machine; an operator's catalog file adds types (or reshapes `shoal.local`).
 */
import type { AttemptLimits } from './attempt.js';
import { invalidParameter } from './errors.js';

export interface InstanceTypeSpec {
  readonly name: string;
  /** May be fractional: 0.5 is half a core. */
  readonly cpuCores: number;
  readonly memoryBytes: number;
  /** Processes and threads alive at once. */
  readonly processes: number;
}

export const LOCAL_INSTANCE_TYPE = 'shoal.local';
export const DEFAULT_PROCESS_LIMIT = 1024;
const GiB = 1024 ** 3;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** One slot's share of a machine with `cores` cores and `memoryBytes` of memory. */
export function slotShare(cores: number, memoryBytes: number, slots: number): InstanceTypeSpec {
  const n = Math.max(1, slots);
  return {
    name: LOCAL_INSTANCE_TYPE,
    cpuCores: Math.max(0.1, Math.round((cores / n) * 100) / 100),
    memoryBytes: Math.floor(memoryBytes / n),
    processes: DEFAULT_PROCESS_LIMIT,
  };
}

export function limitsOf(t: InstanceTypeSpec): AttemptLimits {
  return {
    instanceType: t.name,
    cpuMillis: Math.round(t.cpuCores * 1000),
    memoryBytes: t.memoryBytes,
    processes: t.processes,
  };
}

/**
 * Reads a catalog file's content: a JSON array of entries shaped like `GET /available`'s, e.g.
 * `[{"InstanceType": "bcs.a2.large", "CpuCore": 2, "MemorySize": 8, "ProcessLimit": 2048}]`
 * (MemorySize in GiB, fractions allowed; ProcessLimit optional). Errors name the entry and field.
 */
export function parseInstanceTypes(json: string, source: string): InstanceTypeSpec[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw invalidParameter(source, json.slice(0, 80), `is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw invalidParameter(source, raw, 'must be a JSON array of instance types');
  const seen = new Set<string>();
  return raw.map((entry: unknown, i) => {
    const at = (field: string) => `${source}[${i}].${field}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw invalidParameter(`${source}[${i}]`, entry, 'must be an object');
    const e = entry as Record<string, unknown>;
    const name = e.InstanceType;
    if (typeof name !== 'string' || !NAME.test(name))
      throw invalidParameter(at('InstanceType'), name, "must be 1-100 of A-Z, a-z, 0-9, '.', '_', '-'");
    if (seen.has(name)) throw invalidParameter(at('InstanceType'), name, 'is listed twice');
    seen.add(name);
    const positive = (field: string, max: number): number => {
      const v = e[field];
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max)
        throw invalidParameter(at(field), v, `must be a number in (0, ${max}]`);
      return v;
    };
    const cpuCores = positive('CpuCore', 4096);
    const memoryBytes = Math.floor(positive('MemorySize', 65536) * GiB);
    const processes =
      e.ProcessLimit === undefined ? DEFAULT_PROCESS_LIMIT : positive('ProcessLimit', 4_194_304);
    if (!Number.isInteger(processes))
      throw invalidParameter(at('ProcessLimit'), processes, 'must be an integer');
    return { name, cpuCores, memoryBytes, processes };
  });
}

/** The catalog a server offers: the built-in slot share, replaced by a file entry of the same name. */
export function buildCatalog(
  local: InstanceTypeSpec,
  configured: readonly InstanceTypeSpec[],
): InstanceTypeSpec[] {
  const byName = new Map<string, InstanceTypeSpec>([[local.name, local]]);
  for (const t of configured) byName.set(t.name, t);
  return [...byName.values()];
}

/**
 * What one attempt of a task takes from a worker's machine: its instance type's CPU and memory (its
 * AutoCluster.InstanceType, shoal.local when none or when the type left the catalog).
 */
export function taskDemand(
  catalog: readonly InstanceTypeSpec[],
): (task: TaskSpec) => { cpuMillis: number; memoryBytes: number } {
  const byName = new Map(
    catalog.map((t) => [t.name, { cpuMillis: Math.round(t.cpuCores * 1000), memoryBytes: t.memoryBytes }]),
  );
  const local = byName.get(LOCAL_INSTANCE_TYPE) ?? { cpuMillis: 0, memoryBytes: 0 };
  return (task) => byName.get(task.autoCluster?.instanceType || LOCAL_INSTANCE_TYPE) ?? local;
}
