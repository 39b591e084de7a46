/**
 * Quotas: what one user may hold at once, configured by the admin in a file (`shoal server --quotas`),
 * enforced by the server before anything is written, and shown to each user by `GET /quotas` (Shoal's
 * `Limits` and `Usage` beside BatchCompute's fields). Exceeding one is 403 `QuotaExceeded` naming it.
 *
 * The file: `{"Default": {"Jobs": 100, ...}, "Users": {"alice": {"InstancesPerJob": 5000}}}`; every
 * field optional, a user's entry overriding the default one field by field.
 */
import { invalidParameter } from './errors.js';

export interface Quotas {
  /** Clusters the user owns (AutoClusters included). */
  readonly clusters: number;
  /** Jobs not yet ended (Waiting or Running). */
  readonly jobs: number;
  readonly tasksPerJob: number;
  /** Instances of one job, all its tasks together. */
  readonly instancesPerJob: number;
  /** Instances running at once, all the user's jobs together; Infinity (the default) = no limit. */
  readonly runningInstances: number;
  /** CPU cores their running instances' types take together; Infinity (the default) = no limit. */
  readonly cpuCores: number;
}

export interface QuotaConfig {
  readonly defaults: Quotas;
  readonly users: Readonly<Record<string, Partial<Quotas>>>;
}

/** Field of the file, and the limit's name in messages. */
export const QUOTA_FIELDS: Readonly<Record<keyof Quotas, string>> = {
  clusters: 'Clusters',
  jobs: 'Jobs',
  tasksPerJob: 'TasksPerJob',
  instancesPerJob: 'InstancesPerJob',
  runningInstances: 'RunningInstances',
  cpuCores: 'CpuCores',
};

export function defaultQuotas(maxInstancesPerJob: number): Quotas {
  return {
    clusters: 100,
    jobs: 10_000,
    tasksPerJob: 1000,
    instancesPerJob: maxInstancesPerJob,
    runningInstances: Infinity,
    cpuCores: Infinity,
  };
}

function readEntry(raw: unknown, at: string): Partial<Quotas> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidParameter(at, raw, 'must be an object');
  const entry = raw as Record<string, unknown>;
  const known = Object.values(QUOTA_FIELDS);
  for (const key of Object.keys(entry))
    if (!known.includes(key))
      throw invalidParameter(`${at}.${key}`, entry[key], `is not one of ${known.join(', ')}`);
  const out: Partial<Record<keyof Quotas, number>> = {};
  for (const [field, key] of Object.entries(QUOTA_FIELDS) as [keyof Quotas, string][]) {
    const v = entry[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1e12)
      throw invalidParameter(`${at}.${key}`, v, 'must be a whole number from 0');
    out[field] = v;
  }
  return out;
}

/** Reads a quota file's content over the server's defaults; errors name the file, entry and field. */
export function parseQuotaConfig(json: string, source: string, defaults: Quotas): QuotaConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw invalidParameter(source, json.slice(0, 80), `is not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidParameter(source, raw, 'must be an object with Default and Users');
  const file = raw as Record<string, unknown>;
  for (const key of Object.keys(file))
    if (key !== 'Default' && key !== 'Users')
      throw invalidParameter(`${source}.${key}`, file[key], 'is not one of Default, Users');
  const base = file.Default === undefined ? {} : readEntry(file.Default, `${source}.Default`);
  const users: Record<string, Partial<Quotas>> = {};
  if (file.Users !== undefined) {
    if (typeof file.Users !== 'object' || file.Users === null || Array.isArray(file.Users))
      throw invalidParameter(`${source}.Users`, file.Users, 'must be an object of user names');
    for (const [name, entry] of Object.entries(file.Users as Record<string, unknown>))
      users[name] = readEntry(entry, `${source}.Users.${name}`);
  }
  return { defaults: { ...defaults, ...base }, users };
}

export function quotasOf(config: QuotaConfig, userName: string): Quotas {
  return { ...config.defaults, ...(config.users[userName] ?? {}) };
}
