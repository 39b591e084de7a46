/**
 * Builds the JobDescription `bcs sub` would submit, from a job.cfg, the command line, or both.
 * Precedence per option: command line > task section > [DEFAULT]; env, docker, read_mount, write_mount,
 * log_mapping and mount merge across the three (a later level wins per key; a mount per destination). Pure: packing and uploading are the
 * caller's, from the returned plan.
 */
import { resolve } from 'node:path';
import type { WireJobDescription, WireTaskDescription } from '@shoal/sdk';
import { substituteVariables, type IniDocument } from './parse.js';
import {
  JobConfigError,
  parseBool,
  parseCluster,
  parseDeps,
  parseDocker,
  parseEnv,
  parseMountList,
  parseMounts,
  type MountItem,
  positiveIntOr,
} from './pairs.js';

/** Option values as written (job.cfg text or command-line strings), keyed by job.cfg option name. */
export type Settings = Readonly<Record<string, string | undefined>>;

/** The tasks of a job before the command line is applied. */
export interface JobSource {
  defaults: Settings;
  tasks: readonly { name: string; values: Settings }[];
  /** Directory the file's relative `pack` paths are resolved against. */
  baseDir: string;
}

export interface BuildJobOptions {
  /** Command-line values; they win over the file. */
  cli: Settings;
  /** Directory command-line `pack` paths are resolved against. */
  cwd: string;
  /** Object-store prefix of uploaded packages and logs, e.g. `oss://shoal/cli/`. */
  osspath: string;
  /** Unique per submission: names the run's folder under osspath. */
  runId: string;
}

/** One package to build from local paths and upload before submitting. */
export interface PackPlan {
  objectUri: string;
  /** Absolute paths: one directory (its contents go to the archive root) or files/directories by name. */
  paths: readonly string[];
  tasks: string[];
}

export interface BuiltJob {
  description: WireJobDescription;
  packs: PackPlan[];
}

/** The values bcs fills in when nothing says otherwise (spec §8.2), Shoal's image/type defaults. */
export const JOB_DEFAULTS = Object.freeze({
  name: 'cli-job',
  description: 'BatchCompute cli job',
  priority: 1,
  timeoutSec: 86400,
  imageId: 'img-ubuntu',
  instanceType: 'shoal.local',
  osspath: 'oss://shoal/cli/',
  taskName: 'task',
});

/** A job.cfg document as a source: `$variables` substituted, one task per non-DEFAULT section. */
export function jobSourceFromIni(doc: IniDocument, baseDir: string): JobSource {
  const resolved = substituteVariables(doc);
  return {
    defaults: Object.fromEntries(resolved.defaults),
    tasks: resolved.sections.map((s) => ({ name: s.name, values: Object.fromEntries(s.values) })),
    baseDir,
  };
}

/** The single task `task` of `shoal sub "<cmd>"` without a file. */
export function singleTaskSource(baseDir: string): JobSource {
  return { defaults: {}, tasks: [{ name: JOB_DEFAULTS.taskName, values: {} }], baseDir };
}

interface Level {
  values: Settings;
  base: string;
}

function firstSet(levels: readonly Level[], key: string): { value: string; level: Level } | undefined {
  for (const level of levels) {
    const value = level.values[key];
    if (value !== undefined) return { value, level };
  }
  return undefined;
}

function nonNegativeInt(text: string | undefined, option: string): number {
  if (text === undefined || text.trim() === '') return 0;
  if (!/^\s*\d+\s*$/.test(text))
    throw new JobConfigError(`${option}: expected a whole number >= 0, got ${JSON.stringify(text)}`);
  return Number(text);
}

function priorityOf(text: string | undefined): number {
  // bcs: an unreadable priority silently becomes 1; the server checks the range.
  return text !== undefined && /^\s*-?\d+\s*$/.test(text) ? Number(text) : JOB_DEFAULTS.priority;
}

/** Builds the JobDescription and the packages to upload. Throws JobConfigError for unusable values. */
export function buildJob(source: JobSource, options: BuildJobOptions): BuiltJob {
  const osspath = options.osspath.endsWith('/') ? options.osspath : `${options.osspath}/`;
  const runPrefix = `${osspath}${options.runId}/`;
  const cli: Level = { values: options.cli, base: options.cwd };
  const defaults: Level = { values: source.defaults, base: source.baseDir };
  if (source.tasks.length === 0) throw new JobConfigError('the job has no tasks: add a [task] section');

  // Job-level options: the command line, else the last task section naming them (legacy bcs), else DEFAULT.
  const sectionLevels = [...source.tasks].reverse().map((t) => ({ values: t.values, base: source.baseDir }));
  const jobLevels = [cli, ...sectionLevels, defaults];
  const jobValue = (key: string): string | undefined => firstSet(jobLevels, key)?.value;
  const force = jobValue('force');
  const autoRelease = jobValue('auto_release');

  const tasks: Record<string, WireTaskDescription> = {};
  const packs: PackPlan[] = [];
  for (const task of source.tasks) {
    const levels: Level[] = [cli, { values: task.values, base: source.baseDir }, defaults];
    const get = (key: string): string | undefined => firstSet(levels, key)?.value;
    const where =
      source.tasks.length > 1 || task.name !== JOB_DEFAULTS.taskName ? ` (in section [${task.name}])` : '';
    const commandLine = get('cmd') ?? '';
    if (commandLine.trim() === '') throw new JobConfigError(`Missing required option: cmd${where}`);

    const envVars: Record<string, string> = {};
    const inputMapping: Record<string, string> = {};
    const outputMapping: Record<string, string> = {};
    const logMapping: Record<string, string> = {};
    const mounts = new Map<string, MountItem>();
    for (const level of [...levels].reverse()) {
      const v = level.values;
      if (v['env']) Object.assign(envVars, parseEnv(v['env']));
      if (v['docker']) Object.assign(envVars, parseDocker(v['docker']));
      for (const mount of parseMounts(v['mount'] ?? '')) mounts.set(mount.Destination, mount);
      for (const [oss, local] of parseMountList(v['read_mount'] ?? '', 'read_mount'))
        inputMapping[oss] = local;
      for (const [oss, local] of parseMountList(v['write_mount'] ?? '', 'write_mount'))
        outputMapping[local] = oss;
      for (const [oss, local] of parseMountList(v['log_mapping'] ?? '', 'log_mapping'))
        logMapping[local] = oss;
    }

    const description: WireTaskDescription = {
      InstanceCount: positiveIntOr(get('nodes'), 1),
      Timeout: positiveIntOr(get('timeout'), JOB_DEFAULTS.timeoutSec),
      MaxRetryCount: nonNegativeInt(get('max_retry_count'), 'max_retry_count'),
      ...clusterFields(levels),
      InputMapping: inputMapping,
      OutputMapping: outputMapping,
      LogMapping: logMapping,
      WriteSupport: true,
      ...(mounts.size ? { Mounts: { Entries: [...mounts.values()] } } : {}),
      Parameters: {
        Command: { CommandLine: commandLine, PackagePath: '', EnvVars: envVars },
        InputMappingConfig: { Lock: false },
        StdoutRedirectPath: `${runPrefix}logs/`,
        StderrRedirectPath: `${runPrefix}logs/`,
      },
    };

    const pack = firstSet(levels, 'pack');
    if (pack && pack.value.trim() !== '') {
      const paths = pack.value
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '')
        .map((p) => resolve(pack.level.base, p));
      const key = paths.join('\0');
      let plan = packs.find((p) => p.paths.join('\0') === key);
      if (!plan) {
        // As bcs: the first distinct package is worker.tar.gz, each further one worker_<task>.tar.gz.
        const file = packs.length === 0 ? 'worker.tar.gz' : `worker_${task.name}.tar.gz`;
        plan = { objectUri: `${runPrefix}${file}`, paths, tasks: [] };
        packs.push(plan);
      }
      plan.tasks.push(task.name);
      description.Parameters.Command.PackagePath = plan.objectUri;
    }
    tasks[task.name] = description;
  }

  const deps = firstSet([cli, defaults], 'deps')?.value;
  return {
    description: {
      Name: jobValue('job_name') || JOB_DEFAULTS.name,
      Description: jobValue('description') || JOB_DEFAULTS.description,
      Priority: priorityOf(jobValue('priority')),
      Type: 'DAG',
      JobFailOnInstanceFail: force === undefined ? true : !parseBool(force, 'force'),
      AutoRelease: autoRelease === undefined ? false : parseBool(autoRelease, 'auto_release'),
      DAG: { Tasks: tasks, Dependencies: deps ? parseDeps(deps) : {} },
    },
    packs,
  };
}

/**
 * ClusterId for `cls-…`, else an AutoCluster. Image and instance type come from the highest level that
 * names them, either directly (`image`, `type`) or inside `cluster = img=…:type=…`.
 */
function clusterFields(levels: readonly Level[]): Pick<WireTaskDescription, 'ClusterId' | 'AutoCluster'> {
  const cluster = firstSet(levels, 'cluster');
  const choice = cluster && cluster.value.trim() !== '' ? parseCluster(cluster.value) : {};
  if ('clusterId' in choice) return { ClusterId: choice.clusterId };
  const pick = (key: 'image' | 'type'): string | undefined => {
    for (const level of levels) {
      const direct = level.values[key];
      if (direct) return direct;
      const inCluster = level.values['cluster'];
      if (inCluster && !inCluster.trim().startsWith('cls-')) {
        const named = (parseCluster(inCluster) as { image?: string; type?: string })[key];
        if (named) return named;
      }
    }
    return undefined;
  };
  return {
    ClusterId: '',
    AutoCluster: {
      ImageId: pick('image') ?? JOB_DEFAULTS.imageId,
      InstanceType: pick('type') ?? JOB_DEFAULTS.instanceType,
      ResourceType: 'OnDemand',
      ReserveOnFail: false,
    },
  };
}
