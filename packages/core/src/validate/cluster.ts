/**
 * Where a task runs: an existing cluster (ClusterId) or one created for it (AutoCluster), exactly one.
 * The original CLI always sends both keys, the unused one empty (`ClusterId: ""` beside an AutoCluster,
 * `AutoCluster: {}` beside a ClusterId), so an empty value counts as not given.
 */
import { invalidJob, missingParameter } from '../errors.js';
import type { AutoClusterSpec } from '../job-spec.js';
import {
  get,
  isAbsent,
  isObject,
  optionalObject,
  optionalString,
  stringMap,
  type JsonObject,
} from './fields.js';
import { JOB_DEFAULTS, RESOURCE_TYPES } from './limits.js';
import { readBool } from './numbers.js';

const CLUSTER_ID = /^cls-[A-Za-z0-9_-]+$/;

export interface TaskCluster {
  readonly clusterId: string;
  readonly autoCluster: AutoClusterSpec | null;
}

function given(value: unknown): boolean {
  if (isAbsent(value) || value === '') return false;
  return !(isObject(value) && Object.keys(value).length === 0);
}

function autoCluster(obj: JsonObject, path: string): AutoClusterSpec {
  const imageId = optionalString(get(obj, 'ImageId'), `${path}.ImageId`);
  const ecsImageId = optionalString(get(obj, 'ECSImageId'), `${path}.ECSImageId`);
  const instanceType = optionalString(get(obj, 'InstanceType'), `${path}.InstanceType`);
  // AttachCluster (seed 002): AutoCluster.ClusterId names an existing cluster the task joins, whose own
  // image and instance types then apply.
  const attachTo = optionalString(get(obj, 'ClusterId'), `${path}.ClusterId`);
  if (attachTo !== '' && !CLUSTER_ID.test(attachTo))
    throw invalidJob(
      `${path}.ClusterId`,
      attachTo,
      "must be a cluster id like cls-... (letters, digits, '_', '-')",
    );
  if (imageId === '' && ecsImageId === '' && attachTo === '') {
    const detail = 'An AutoCluster needs ImageId (e.g. img-ubuntu) or ECSImageId, and usually InstanceType.';
    if (isAbsent(get(obj, 'ImageId')) && isAbsent(get(obj, 'ECSImageId')))
      throw missingParameter(`${path}.ImageId`, detail);
    throw invalidJob(`${path}.ImageId`, get(obj, 'ImageId'), 'one of ImageId or ECSImageId is required');
  }
  const rawType = get(obj, 'ResourceType');
  let resourceType: string = JOB_DEFAULTS.resourceType;
  if (!isAbsent(rawType) && rawType !== '') {
    if (typeof rawType !== 'string' || !RESOURCE_TYPES.includes(rawType)) {
      throw invalidJob(`${path}.ResourceType`, rawType, `must be one of ${RESOURCE_TYPES.join(', ')}`);
    }
    resourceType = rawType;
  }
  const reserveOnFail = readBool(get(obj, 'ReserveOnFail'), `${path}.ReserveOnFail`, false);
  const userData = stringMap(get(obj, 'UserData'), `${path}.UserData`);
  optionalObject(get(obj, 'Configs'), `${path}.Configs`);
  return {
    imageId,
    ecsImageId,
    instanceType,
    resourceType,
    reserveOnFail,
    userData,
    ...(attachTo ? { clusterId: attachTo } : {}),
  };
}

/** Reads ClusterId / AutoCluster of the task at `taskPath`. */
export function readCluster(task: JsonObject, taskPath: string): TaskCluster {
  const rawId = get(task, 'ClusterId');
  const rawAuto = get(task, 'AutoCluster');
  const idPath = `${taskPath}.ClusterId`;
  const autoPath = `${taskPath}.AutoCluster`;
  const hasId = given(rawId);
  const hasAuto = given(rawAuto);
  if (hasId && hasAuto) throw invalidJob(idPath, rawId, 'give either ClusterId or AutoCluster, not both');
  if (hasId) {
    if (typeof rawId !== 'string' || !CLUSTER_ID.test(rawId)) {
      throw invalidJob(idPath, rawId, "must be a cluster id like cls-... (letters, digits, '_', '-')");
    }
    return { clusterId: rawId, autoCluster: null };
  }
  // Not given means absent, '' or {}; anything else non-empty has to be an AutoCluster object. An empty
  // AutoCluster without a ClusterId is read as one, so that the error names the field it lacks.
  if (hasAuto || (!hasId && isObject(rawAuto))) {
    const obj = optionalObject(rawAuto, autoPath)!;
    return { clusterId: '', autoCluster: autoCluster(obj, autoPath) };
  }
  throw invalidJob(idPath, rawId, 'one of ClusterId or AutoCluster is required');
}
