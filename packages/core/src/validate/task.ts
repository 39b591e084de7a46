/**
 * One TaskDescription (spec §5.3–5.5) -> TaskSpec. Fields are checked in a fixed order so the first
 * error reported for a given description never changes.
 */
import { invalidJob, missingParameter } from '../errors.js';
import { commandLineProblem } from '../cmdline.js';
import { dockerReferenceProblem, taskDockerImage } from '../images.js';
import { mountSchemeOf, unsupportedMountScheme, type MountEntry } from '../mounts.js';
import { objectUriProblem } from '../oss-uri.js';
import type { TaskSpec } from '../job-spec.js';
import { readRetryStrategy } from './retry-strategy.js';
import { readCluster } from './cluster.js';
import {
  get,
  isAbsent,
  isObject,
  optionalObject,
  optionalString,
  requireObject,
  stringMap,
  type JsonObject,
} from './fields.js';
import { JOB_DEFAULTS, LIMITS } from './limits.js';
import { readMappings } from './mappings.js';
import { readBool, readInt } from './numbers.js';
import { localPath, packagePath, redirectPath } from './paths.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function envNameProblem(name: string): string | undefined {
  return ENV_NAME.test(name) ? undefined : 'environment variable names must match [A-Za-z_][A-Za-z0-9_]*';
}

function commandLine(value: unknown, path: string): string {
  if (isAbsent(value)) throw missingParameter(path);
  if (typeof value !== 'string' || value.trim() === '')
    throw invalidJob(path, value, 'must be a non-empty string');
  if (value.includes('\0')) throw invalidJob(path, value, 'must not contain NUL characters');
  if (Buffer.byteLength(value) > LIMITS.maxCommandLineBytes) {
    throw invalidJob(path, value, `must be at most ${LIMITS.maxCommandLineBytes} bytes`);
  }
  // Refused now rather than when the first instance runs: it could never run.
  const problem = commandLineProblem(value);
  if (problem) throw invalidJob(path, value, problem);
  return value;
}

interface CommandFields {
  readonly docker?: { readonly image: string; readonly archive: string };
  readonly commandLine: string;
  readonly packagePath: string;
  readonly envVars: Readonly<Record<string, string>>;
  readonly stdoutRedirectPath: string;
  readonly stderrRedirectPath: string;
}

function readParameters(task: JsonObject, taskPath: string): CommandFields {
  const path = `${taskPath}.Parameters`;
  const params = requireObject(get(task, 'Parameters'), path);
  const command = requireObject(get(params, 'Command'), `${path}.Command`);
  const fields: CommandFields = {
    commandLine: commandLine(get(command, 'CommandLine'), `${path}.Command.CommandLine`),
    packagePath: packagePath(get(command, 'PackagePath'), `${path}.Command.PackagePath`),
    envVars: stringMap(get(command, 'EnvVars'), `${path}.Command.EnvVars`, { keyProblem: envNameProblem }),
    stdoutRedirectPath: redirectPath(get(params, 'StdoutRedirectPath'), `${path}.StdoutRedirectPath`),
    stderrRedirectPath: redirectPath(get(params, 'StderrRedirectPath'), `${path}.StderrRedirectPath`),
  };
  optionalObject(get(params, 'InputMappingConfig'), `${path}.InputMappingConfig`);
  const docker = readDocker(command, fields.envVars, `${path}.Command`);
  return docker ? { ...fields, docker } : fields;
}

/** Docker as the task asks for it itself (seed 002's variables, or the Python SDK's Command.Docker). */
function readDocker(command: JsonObject, envVars: Readonly<Record<string, string>>, path: string) {
  const dockerObject = optionalObject(get(command, 'Docker'), `${path}.Docker`);
  const commandImage = dockerObject ? optionalString(get(dockerObject, 'Image'), `${path}.Docker.Image`) : '';
  const docker = taskDockerImage(envVars, commandImage);
  if (!docker) return undefined;
  const field = envVars.BATCH_COMPUTE_DOCKER_IMAGE
    ? `${path}.EnvVars.BATCH_COMPUTE_DOCKER_IMAGE`
    : `${path}.Docker.Image`;
  const problem = dockerReferenceProblem(docker.image);
  if (problem) throw invalidJob(field, docker.image, problem);
  const folder = envVars.BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH;
  if (folder) {
    const uriProblem = objectUriProblem(folder);
    if (uriProblem)
      throw invalidJob(
        `${path}.EnvVars.BATCH_COMPUTE_DOCKER_REGISTRY_OSS_PATH`,
        folder,
        `must be an oss:// folder: ${uriProblem}`,
      );
  }
  return docker;
}

/** Validates the task called `name` (already checked to be a valid name). */
export function readTask(name: string, raw: unknown, taskPath: string): TaskSpec {
  const task = requireObject(raw, taskPath);
  const instanceCount = readInt(get(task, 'InstanceCount'), `${taskPath}.InstanceCount`, {
    min: 1,
    max: LIMITS.maxInstanceCount,
    fallback: JOB_DEFAULTS.instanceCount,
  });
  const timeoutSec = readInt(get(task, 'Timeout'), `${taskPath}.Timeout`, {
    min: 1,
    max: LIMITS.maxTimeoutSec,
    fallback: JOB_DEFAULTS.timeoutSec,
  });
  const maxRetryCount = readInt(get(task, 'MaxRetryCount'), `${taskPath}.MaxRetryCount`, {
    min: 0,
    max: LIMITS.maxRetryCount,
    fallback: JOB_DEFAULTS.maxRetryCount,
  });
  // Shoal addition; 0 (the default) = no cap of its own.
  const maxRunningInstances = readInt(get(task, 'MaxRunningInstances'), `${taskPath}.MaxRunningInstances`, {
    min: 0,
    max: LIMITS.maxInstanceCount,
    fallback: 0,
  });
  const retry = readRetryStrategy(get(task, 'RetryStrategy'), `${taskPath}.RetryStrategy`);
  const cluster = readCluster(task, taskPath);
  const command = readParameters(task, taskPath);
  const mappings = readMappings(
    get(task, 'InputMapping'),
    get(task, 'OutputMapping'),
    get(task, 'LogMapping'),
    taskPath,
  );
  const writeSupport = readBool(
    get(task, 'WriteSupport'),
    `${taskPath}.WriteSupport`,
    JOB_DEFAULTS.writeSupport,
  );
  // Shoal addition: a task may turn the network off for its commands (own network namespace, loopback only).
  const networkAccess = readBool(
    get(task, 'NetworkAccess'),
    `${taskPath}.NetworkAccess`,
    JOB_DEFAULTS.networkAccess,
  );
  const mounts = [
    ...readMounts(get(task, 'Mounts'), `${taskPath}.Mounts`),
    ...readMounts(autoClusterMounts(task), `${taskPath}.AutoCluster.Configs.Mounts`),
  ];
  optionalObject(get(task, 'Docker'), `${taskPath}.Docker`);
  return {
    name,
    instanceCount,
    timeoutSec,
    maxRetryCount,
    ...(maxRunningInstances ? { maxRunningInstances } : {}),
    ...(retry.rules.length ? { retryRules: retry.rules } : {}),
    ...(retry.backoffSec ? { retryBackoffSec: retry.backoffSec } : {}),
    ...cluster,
    ...command,
    ...mappings,
    writeSupport,
    networkAccess,
    ...(mounts.length ? { mounts } : {}),
  };
}

function autoClusterMounts(task: JsonObject): unknown {
  const auto = get(task, 'AutoCluster');
  if (!isObject(auto)) return undefined;
  const configs = get(auto, 'Configs');
  return isObject(configs) ? get(configs, 'Mounts') : undefined;
}

/** `Mounts.Entries`: shapes only; which sources a server allows is its own decision, at submit. */
function readMounts(value: unknown, path: string): MountEntry[] {
  const mounts = optionalObject(value, path);
  if (!mounts) return [];
  const entries = get(mounts, 'Entries');
  if (isAbsent(entries)) return [];
  if (!Array.isArray(entries))
    throw invalidJob(`${path}.Entries`, entries, 'must be a list of {Source, Destination, WriteSupport}');
  return entries.map((raw: unknown, i) => {
    const at = `${path}.Entries[${i}]`;
    const entry = requireObject(raw, at);
    const source = get(entry, 'Source');
    if (typeof source !== 'string' || source === '')
      throw invalidJob(`${at}.Source`, source, 'must be a non-empty string');
    const unsupported = unsupportedMountScheme(source);
    if (unsupported)
      throw invalidJob(
        `${at}.Source`,
        source,
        `${unsupported} mounts are not supported; use oss://, nas:// or file://`,
      );
    const uriProblem = /^(oss|s3):\/\//.test(source) ? objectUriProblem(source) : undefined;
    if (uriProblem) throw invalidJob(`${at}.Source`, source, uriProblem);
    const scheme = mountSchemeOf(source);
    if (!scheme) throw invalidJob(`${at}.Source`, source, 'must be an oss://, nas:// or file:// source');
    const destination = localPath(get(entry, 'Destination'), `${at}.Destination`);
    if (!destination.startsWith('/'))
      throw invalidJob(`${at}.Destination`, destination, 'must be an absolute path');
    const writable = readBool(get(entry, 'WriteSupport'), `${at}.WriteSupport`, false);
    if (writable && scheme === 'oss')
      throw invalidJob(
        `${at}.WriteSupport`,
        true,
        'oss:// mounts are read-only here: write results with OutputMapping',
      );
    return { source, destination, writable, field: at };
  });
}
