/**
 * Clusters: sets of workers in groups, each group of one instance type (spec §5.8–5.10, §6.4–6.5).
 * A task names the cluster it runs on (`ClusterId`) or gets one of its own (`AutoCluster`). Every server
 * has a default cluster, `cls-local`, holding its embedded worker: it belongs to the service, every user
 * may run on it, and only the admin changes it.
 *
 * A cluster's provider says where its workers come from (a Shoal addition, `Provider`):
 * - `static`: an operator starts `shoal agent` on other hosts; the cluster shows what joined.
 * - `local`: the server starts agents on its own host.
 * - `slurm`: an existing Slurm cluster runs the work.
 * The default cluster's one worker is the server's embedded worker.
 */
import { invalidParameter, missingParameter } from './errors.js';

export const DEFAULT_CLUSTER_ID = 'cls-local';
/**
 * Where tasks that name no cluster wait while AutoClusters are on, until theirs is made: no cluster has
 * this id, so no worker claims them before that.
 */
export const AUTO_CLUSTER_PENDING = 'cls-auto-pending';
/** The owner of the default cluster: the service itself, not a user. */
export const SERVICE_OWNER_ID = 0;
export const DEFAULT_GROUP_NAME = 'group';

export type ClusterProvider = 'static' | 'local' | 'slurm';
export const CLUSTER_PROVIDERS: readonly ClusterProvider[] = ['static', 'local', 'slurm'];
export type ResourceType = 'OnDemand' | 'Spot';
/** Spec §7.4: Active while it lives; a deleted cluster is gone from the list. */
export type ClusterState = 'Active' | 'Deleting';
/** Spec §6.5 (PY tests): the states of a cluster VM, here a worker. */
export type WorkerState = 'Pending' | 'Starting' | 'Running' | 'Deleting' | 'Deleted';

export interface GroupSpec {
  /** Workers wanted now; in an elastic group, Shoal's own target between its minimum and maximum. */
  readonly desiredVMCount: number;
  /**
   * Elastic groups (Shoal addition `MaxVMCount`): the group grows with the demand of the tasks on its
   * cluster (queued and running instances, AttachCluster jobs among them) up to maxVMCount, and shrinks
   * back to minVMCount (the DesiredVMCount its owner set) once idle. Absent or 0 = a fixed group.
   */
  readonly maxVMCount?: number;
  readonly minVMCount?: number;
  /** '' = the cluster's InstanceType. */
  readonly instanceType: string;
  readonly resourceType: ResourceType;
  readonly spotStrategy: string;
  readonly spotPriceLimit: number;
  readonly hostnamePrefix: string;
}

export interface ClusterSpec {
  readonly name: string;
  readonly description: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly provider: ClusterProvider;
  readonly groups: Readonly<Record<string, GroupSpec>>;
  readonly userData: Readonly<Record<string, string>>;
  readonly envVars: Readonly<Record<string, string>>;
  /** Object prefix -> local path, as sent (spec §6.4): shown back, not mounted yet. */
  readonly inputMapping: Readonly<Record<string, string>>;
  /** Kept as sent (object or null) and shown back: Shoal reads no field of them yet. */
  readonly configs: unknown;
  readonly notification: unknown;
  readonly bootstrap: string;
}

export interface ClusterRecord extends ClusterSpec {
  readonly id: string;
  /** An AutoCluster: the task it was made for, released when that task ends. */
  readonly autoFor?: { readonly jobId: string; readonly taskName: string };
  readonly ownerId: number;
  readonly state: ClusterState;
  readonly createdAtUs: number;
}

/** What `PUT /clusters/{id}` may change; absent = unchanged. */
export interface ClusterChange {
  readonly groups?: Readonly<
    Record<
      string,
      { desiredVMCount?: number; instanceType?: string; spotStrategy?: string; spotPriceLimit?: number }
    >
  >;
  readonly userData?: Readonly<Record<string, string>>;
  readonly envVars?: Readonly<Record<string, string>>;
  readonly inputMapping?: Readonly<Record<string, string>>;
  readonly imageId?: string;
  readonly configs?: unknown;
}

/** Whether a group grows and shrinks with demand. */
export function isElastic(g: GroupSpec): boolean {
  return (g.maxVMCount ?? 0) > 0;
}

/**
 * The target of an elastic group for a demand (instances queued or running on its cluster): up at once
 * to what is needed, within [min, max]; down only when `idle` (no demand for the group's idle time).
 */
export function elasticTarget(g: GroupSpec, demand: number, idle: boolean): number {
  const min = g.minVMCount ?? 0;
  const max = g.maxVMCount ?? g.desiredVMCount;
  const needed = Math.min(max, Math.max(min, demand));
  if (needed >= g.desiredVMCount) return needed;
  return idle ? needed : g.desiredVMCount;
}

/** Workers a group may ask for: a cluster is no way to start unbounded processes on a host. */
export const MAX_DESIRED_VM_COUNT = 1000;
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const CLUSTER_NAME_MAX = 100;

type Body = Record<string, unknown>;

function objectAt(value: unknown, field: string): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidParameter(field, value, 'must be a JSON object');
  return value as Body;
}

function stringAt(body: Body, key: string, field: string, max: number): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParameter(field, v, 'must be a string');
  if (v.length > max) throw invalidParameter(field, v, `must be at most ${max} characters`);
  return v;
}

function countAt(body: Body, key: string, field: string): number | undefined {
  let v = body[key];
  if (v === undefined || v === null) return undefined;
  // The Python SDK sends numbers; job.cfg-style tools sometimes send digit strings.
  if (typeof v === 'string' && /^\d+$/.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_DESIRED_VM_COUNT)
    throw invalidParameter(field, v, `must be a whole number from 0 to ${MAX_DESIRED_VM_COUNT}`);
  return v;
}

function priceAt(body: Body, key: string, field: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    throw invalidParameter(field, v, 'must be a number >= 0');
  return n;
}

function stringMapAt(body: Body, key: string, field: string): Record<string, string> | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const map = objectAt(v, field);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw invalidParameter(`${field}.${k}`, value, 'must be a string');
    out[k] = value;
  }
  return out;
}

function groupName(name: string, field: string): string {
  if (!GROUP_NAME.test(name))
    throw invalidParameter(
      field,
      name,
      "must be 1-64 of A-Z, a-z, 0-9, '_', '-', starting with a letter or digit",
    );
  return name;
}

function resourceTypeAt(body: Body, field: string): ResourceType {
  const v = stringAt(body, 'ResourceType', field, 20);
  if (v === undefined || v === '') return 'OnDemand';
  if (v !== 'OnDemand' && v !== 'Spot') throw invalidParameter(field, v, 'must be OnDemand or Spot');
  return v;
}

function readGroup(raw: unknown, at: string): GroupSpec {
  const g = objectAt(raw, at);
  const desired = countAt(g, 'DesiredVMCount', `${at}.DesiredVMCount`);
  if (desired === undefined) throw missingParameter(`${at}.DesiredVMCount`);
  const max = countAt(g, 'MaxVMCount', `${at}.MaxVMCount`) ?? 0;
  if (max > 0 && max < desired)
    throw invalidParameter(`${at}.MaxVMCount`, max, `must be at least DesiredVMCount (${desired})`);
  return {
    desiredVMCount: desired,
    ...(max > 0 ? { maxVMCount: max, minVMCount: desired } : {}),
    instanceType: stringAt(g, 'InstanceType', `${at}.InstanceType`, 100) ?? '',
    resourceType: resourceTypeAt(g, `${at}.ResourceType`),
    spotStrategy: stringAt(g, 'SpotStrategy', `${at}.SpotStrategy`, 40) ?? '',
    spotPriceLimit: priceAt(g, 'SpotPriceLimit', `${at}.SpotPriceLimit`) ?? 0,
    hostnamePrefix: stringAt(g, 'HostnamePrefix', `${at}.HostnamePrefix`, 60) ?? '',
  };
}

/**
 * Reads a ClusterDescription (`POST /clusters`). Errors name the field as the client wrote it. Instance
 * types and the image are checked against the server's catalog and images by the caller.
 */
export function readClusterDescription(body: unknown): ClusterSpec {
  const b = objectAt(body, 'ClusterDescription');
  const name = stringAt(b, 'Name', 'Name', CLUSTER_NAME_MAX) ?? '';
  if (name === '') throw missingParameter('Name');
  const imageId = stringAt(b, 'ImageId', 'ImageId', 200) ?? '';
  if (imageId === '') throw missingParameter('ImageId', 'img-ubuntu is the workers’ own system.');
  const providerRaw = stringAt(b, 'Provider', 'Provider', 20) ?? 'static';
  if (!CLUSTER_PROVIDERS.includes(providerRaw as ClusterProvider))
    throw invalidParameter('Provider', providerRaw, `must be one of ${CLUSTER_PROVIDERS.join(', ')}`);
  const rawGroups = b.Groups === undefined || b.Groups === null ? {} : objectAt(b.Groups, 'Groups');
  const groups: Record<string, GroupSpec> = {};
  for (const [name, raw] of Object.entries(rawGroups))
    groups[groupName(name, `Groups.${name}`)] = readGroup(raw, `Groups.${name}`);
  if (Object.keys(groups).length === 0)
    throw missingParameter(
      'Groups',
      'A cluster needs at least one group, e.g. {"group": {"DesiredVMCount": 1}}.',
    );
  const instanceType = stringAt(b, 'InstanceType', 'InstanceType', 100) ?? '';
  for (const [name, g] of Object.entries(groups))
    if (!g.instanceType && !instanceType)
      throw missingParameter(
        `Groups.${name}.InstanceType`,
        'Give it, or InstanceType for the whole cluster.',
      );
  return {
    name,
    description: stringAt(b, 'Description', 'Description', 1000) ?? '',
    imageId,
    instanceType,
    provider: providerRaw as ClusterProvider,
    groups,
    userData: stringMapAt(b, 'UserData', 'UserData') ?? {},
    envVars: stringMapAt(b, 'EnvVars', 'EnvVars') ?? {},
    inputMapping: stringMapAt(b, 'InputMapping', 'InputMapping') ?? {},
    configs: b.Configs === undefined ? null : objectAt(b.Configs, 'Configs'),
    notification: b.Notification === undefined ? null : objectAt(b.Notification, 'Notification'),
    bootstrap: stringAt(b, 'Bootstrap', 'Bootstrap', 4096) ?? '',
  };
}

/** Reads a ModifyClusterDescription or one of the partial bodies the official clients send. */
export function readClusterChange(body: unknown): ClusterChange {
  const b = objectAt(body, 'ModifyClusterDescription');
  const known = new Set(['Groups', 'UserData', 'EnvVars', 'ImageId', 'Configs', 'InputMapping']);
  for (const key of Object.keys(b))
    if (!known.has(key))
      throw invalidParameter(key, b[key], `cannot be changed; a cluster's ${[...known].join(', ')} can`);
  let groups: Record<string, NonNullable<ClusterChange['groups']>[string]> | undefined;
  if (b.Groups !== undefined && b.Groups !== null) {
    groups = {};
    for (const [name, raw] of Object.entries(objectAt(b.Groups, 'Groups'))) {
      const at = `Groups.${name}`;
      const g = objectAt(raw, at);
      const desiredVMCount = countAt(g, 'DesiredVMCount', `${at}.DesiredVMCount`);
      const instanceType = stringAt(g, 'InstanceType', `${at}.InstanceType`, 100);
      const spotStrategy = stringAt(g, 'SpotStrategy', `${at}.SpotStrategy`, 40);
      const spotPriceLimit = priceAt(g, 'SpotPriceLimit', `${at}.SpotPriceLimit`);
      groups[name] = {
        ...(desiredVMCount !== undefined ? { desiredVMCount } : {}),
        ...(instanceType ? { instanceType } : {}),
        ...(spotStrategy !== undefined ? { spotStrategy } : {}),
        ...(spotPriceLimit !== undefined ? { spotPriceLimit } : {}),
      };
    }
  }
  const userData = stringMapAt(b, 'UserData', 'UserData');
  const envVars = stringMapAt(b, 'EnvVars', 'EnvVars');
  const inputMapping = stringMapAt(b, 'InputMapping', 'InputMapping');
  const imageId = stringAt(b, 'ImageId', 'ImageId', 200);
  return {
    ...(groups ? { groups } : {}),
    ...(userData ? { userData } : {}),
    ...(envVars ? { envVars } : {}),
    ...(inputMapping ? { inputMapping } : {}),
    ...(imageId ? { imageId } : {}),
    ...(b.Configs !== undefined && b.Configs !== null ? { configs: objectAt(b.Configs, 'Configs') } : {}),
  };
}

/** The cluster with a change applied; groups it names must exist (StateConflict is the caller's). */
export function applyClusterChange(spec: ClusterSpec, change: ClusterChange): ClusterSpec {
  const groups: Record<string, GroupSpec> = { ...spec.groups };
  for (const [name, g] of Object.entries(change.groups ?? {})) {
    const current = groups[name];
    if (!current)
      throw invalidParameter(
        `Groups.${name}`,
        name,
        `is not a group of this cluster (its groups: ${Object.keys(spec.groups).join(', ')})`,
      );
    const desired = g.desiredVMCount;
    if (desired !== undefined && current.maxVMCount && desired > current.maxVMCount)
      throw invalidParameter(
        `Groups.${name}.DesiredVMCount`,
        desired,
        `must be at most the group's MaxVMCount (${current.maxVMCount})`,
      );
    groups[name] = {
      ...current,
      // In an elastic group the owner's count is its minimum; Shoal raises the target with demand.
      ...(desired !== undefined && current.maxVMCount
        ? { minVMCount: desired, desiredVMCount: Math.max(desired, current.desiredVMCount) }
        : desired !== undefined
          ? { desiredVMCount: desired }
          : {}),
      ...(g.instanceType ? { instanceType: g.instanceType } : {}),
      ...(g.spotStrategy !== undefined ? { spotStrategy: g.spotStrategy } : {}),
      ...(g.spotPriceLimit !== undefined ? { spotPriceLimit: g.spotPriceLimit } : {}),
    };
  }
  return {
    ...spec,
    groups,
    userData: change.userData ?? spec.userData,
    envVars: change.envVars ?? spec.envVars,
    inputMapping: change.inputMapping ?? spec.inputMapping,
    imageId: change.imageId ?? spec.imageId,
    configs: change.configs ?? spec.configs,
  };
}

/** The instance type a group's workers provide. */
export function groupInstanceType(cluster: ClusterSpec, group: string): string {
  return cluster.groups[group]?.instanceType || cluster.instanceType;
}
