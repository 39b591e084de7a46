/**
 * Builds the JobDescription `bcs sub` would submit, from a job.cfg, the command line, or both.
 * Precedence per option: command line > task section > [DEFAULT]; env, docker, read_mount, write_mount,
 * log_mapping and mount merge across the three (a later level wins per key; a mount per destination). Pure: packing and uploading are the
 * caller's, from the returned plan.
 */
import { resolve } from 'node:path';
import type { WireJobDescription, WireTaskDescription } from '@shoal/sdk';
import { durationSeconds, oneOf, OptionValueError, wholeNumber } from '../option-values.js';
import { closest } from './closest.js';
import { substituteVariables, type IniDocument } from './parse.js';
import {
  JobConfigError,
  items,
  parseBool,
  parseCluster,
  parseDeps,
  parseDocker,
  parseEnv,
  parseMountList,
  parseMounts,
  type MountItem,
} from './pairs.js';

/** Option values as written (job.cfg text or command-line strings), keyed by job.cfg option name. */
export type Settings = Readonly<Record<string, string | undefined>>;

/** The tasks of a job before the command line is applied. */
export interface JobSource {
  defaults: Settings;
  tasks: readonly { name: string; values: Settings; lines?: ReadonlyMap<string, number> }[];
  /** Directory the file's relative `pack` paths are resolved against. */
  baseDir: string;
  /** The job.cfg the values come from, and the line of each DEFAULT key, for messages. */
  file?: string;
  defaultLines?: ReadonlyMap<string, number>;
  /** What reading the file found worth telling (settings that have no effect). */
  warnings?: readonly string[];
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
  /** Settings that were understood but have no effect in Shoal, one line each, for stderr. */
  warnings: string[];
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

/** The job.cfg keys Shoal reads (spec §8.2), by the command-line flag that sets the same thing. */
const KEYS: Readonly<Record<string, string | undefined>> = {
  cmd: undefined,
  job_name: undefined,
  description: '-d/--description',
  nodes: '-n/--nodes',
  force: '-f/--force',
  auto_release: '--auto_release',
  pack: '-p/--pack',
  priority: '--priority',
  timeout: '--timeout',
  cluster: '-c/--cluster',
  image: '-i/--image',
  type: '-t/--type',
  env: '-e/--env',
  read_mount: '-r/--read_mount',
  write_mount: '-w/--write_mount',
  log_mapping: '--log_mapping',
  mount: '-m/--mount',
  docker: '--docker',
  max_retry_count: '--max_retry_count',
  deps: undefined,
  resource_type: undefined,
  reserve_on_fail: undefined,
  user_data: undefined,
  notification_endpoint: undefined,
  notification_topic: undefined,
  notification_events: undefined,
};

/** bcs job.cfg keys for cloud resources a self-hosted Shoal does not have: accepted, with a warning. */
const IGNORED_KEYS = new Set([
  'disk',
  'vpc_cidr_block',
  'vpc_id',
  'spot_price_limit',
  'nas_access_group',
  'nas_file_system',
  'no_cache_support',
  'lock',
  'locale',
]);

/** Refuses keys no version of bcs knows (a typo would otherwise be ignored), naming the closest known key. */
function checkKeys(doc: IniDocument): string[] {
  const warnings: string[] = [];
  const known = [...Object.keys(KEYS), ...IGNORED_KEYS];
  const sections = [
    { name: 'DEFAULT', values: doc.defaults, lines: doc.defaultLines },
    ...doc.sections.map((s) => ({ name: s.name, values: s.values, lines: s.lines })),
  ];
  for (const section of sections) {
    for (const key of section.values.keys()) {
      if (key.startsWith('$') || key in KEYS) continue;
      const at = `${doc.source}:${section.lines.get(key) ?? '?'}`;
      if (IGNORED_KEYS.has(key)) {
        warnings.push(
          `${at}: "${key}" in [${section.name}] has no effect in Shoal (a bcs cloud option); ignored`,
        );
        continue;
      }
      const near = closest(key, known);
      throw new JobConfigError(
        `${at}: unknown option "${key}" in [${section.name}]${near ? `; did you mean "${near}"?` : ''}`,
      );
    }
  }
  return warnings;
}

/** A job.cfg document as a source: `$variables` substituted, one task per non-DEFAULT section. */
export function jobSourceFromIni(doc: IniDocument, baseDir: string): JobSource {
  const warnings = checkKeys(doc);
  const resolved = substituteVariables(doc);
  return {
    defaults: Object.fromEntries(resolved.defaults),
    tasks: resolved.sections.map((s) => ({
      name: s.name,
      values: Object.fromEntries(s.values),
      lines: s.lines,
    })),
    baseDir,
    file: doc.source,
    defaultLines: doc.defaultLines,
    warnings,
  };
}

/** The single task `task` of `shoal sub "<cmd>"` without a file. */
export function singleTaskSource(baseDir: string): JobSource {
  return { defaults: {}, tasks: [{ name: JOB_DEFAULTS.taskName, values: {} }], baseDir };
}

interface Level {
  values: Settings;
  base: string;
  /** Where `key` was set, for messages: the flag, or the file, line and section. */
  where(key: string): string;
}

function firstSet(levels: readonly Level[], key: string): { value: string; level: Level } | undefined {
  for (const level of levels) {
    const value = level.values[key];
    if (value !== undefined) return { value, level };
  }
  return undefined;
}

/**
 * The value of `key` from the first level that sets it, read by `parse`, or `fallback`. Unlike bcs, which
 * replaced an unreadable number with its default, a bad value is refused, naming where it was set.
 */
function checkedValue<T>(levels: readonly Level[], key: string, parse: (text: string) => T, fallback: T): T {
  const found = firstSet(levels, key);
  if (!found) return fallback;
  try {
    return parse(found.value);
  } catch (err) {
    if (!(err instanceof OptionValueError)) throw err;
    throw new JobConfigError(
      `${found.level.where(key)}: ${JSON.stringify(found.value)} is not valid: ${err.message}`,
    );
  }
}

function cliLevel(values: Settings, base: string): Level {
  return { values, base, where: (key) => (KEYS[key] ? `option ${KEYS[key]}` : key) };
}

function fileLevel(
  values: Settings,
  base: string,
  file: string | undefined,
  section: string,
  lines: ReadonlyMap<string, number> | undefined,
): Level {
  return {
    values,
    base,
    where: (key) => `${file ?? 'job.cfg'}:${lines?.get(key) ?? '?'}: ${key} in [${section}]`,
  };
}

/** Builds the JobDescription and the packages to upload. Throws JobConfigError for unusable values. */
export function buildJob(source: JobSource, options: BuildJobOptions): BuiltJob {
  const osspath = options.osspath.endsWith('/') ? options.osspath : `${options.osspath}/`;
  const runPrefix = `${osspath}${options.runId}/`;
  const cli = cliLevel(options.cli, options.cwd);
  const defaults = fileLevel(source.defaults, source.baseDir, source.file, 'DEFAULT', source.defaultLines);
  const sectionLevel = (t: JobSource['tasks'][number]): Level =>
    fileLevel(t.values, source.baseDir, source.file, t.name, t.lines);
  if (source.tasks.length === 0) throw new JobConfigError('the job has no tasks: add a [task] section');

  // Job-level options: the command line, else the last task section naming them (legacy bcs), else DEFAULT.
  const sectionLevels = [...source.tasks].reverse().map(sectionLevel);
  const jobLevels = [cli, ...sectionLevels, defaults];
  const jobValue = (key: string): string | undefined => firstSet(jobLevels, key)?.value;
  const force = jobValue('force');
  const autoRelease = jobValue('auto_release');

  const tasks: Record<string, WireTaskDescription> = {};
  const packs: PackPlan[] = [];
  for (const task of source.tasks) {
    const levels: Level[] = [cli, sectionLevel(task), defaults];
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
      InstanceCount: checkedValue(levels, 'nodes', (t) => wholeNumber(t, 1), 1),
      Timeout: checkedValue(levels, 'timeout', durationSeconds, JOB_DEFAULTS.timeoutSec),
      MaxRetryCount: checkedValue(levels, 'max_retry_count', (t) => wholeNumber(t, 0), 0),
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

  const depsText = firstSet([cli, defaults], 'deps')?.value;
  const dependencies = depsText ? parseDeps(depsText) : {};
  // Checked here, as the server would, so that --show_dag and --show_json refuse what sub would.
  for (const [from, successors] of Object.entries(dependencies)) {
    for (const name of [from, ...successors]) {
      if (!(name in tasks))
        throw new JobConfigError(
          `deps: "${name}" is not a task of this job (tasks: ${Object.keys(tasks).join(', ')})`,
        );
    }
  }
  const notification = notificationOf(jobLevels);
  return {
    description: {
      Name: jobValue('job_name') || JOB_DEFAULTS.name,
      Description: jobValue('description') || JOB_DEFAULTS.description,
      Priority: checkedValue(jobLevels, 'priority', (t) => wholeNumber(t, 0, 1000), JOB_DEFAULTS.priority),
      Type: 'DAG',
      JobFailOnInstanceFail: force === undefined ? true : !parseBool(force, 'force'),
      AutoRelease: autoRelease === undefined ? false : parseBool(autoRelease, 'auto_release'),
      ...(notification ? { Notification: notification } : {}),
      DAG: { Tasks: tasks, Dependencies: dependencies },
    },
    packs,
    warnings: [...(source.warnings ?? [])],
  };
}

/** `notification_endpoint`, `_topic` and `_events` (comma-separated) as the job's Notification.Topic. */
function notificationOf(levels: readonly Level[]): WireJobDescription['Notification'] | undefined {
  const endpoint = firstSet(levels, 'notification_endpoint')?.value;
  const topic = firstSet(levels, 'notification_topic')?.value;
  const events = firstSet(levels, 'notification_events')?.value;
  if (endpoint === undefined && topic === undefined && events === undefined) return undefined;
  return {
    Topic: {
      ...(topic ? { Name: topic } : {}),
      ...(endpoint ? { Endpoint: endpoint } : {}),
      Events: items(events ?? ''),
    },
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
  const userData = firstSet(levels, 'user_data');
  return {
    ClusterId: '',
    AutoCluster: {
      ImageId: pick('image') ?? JOB_DEFAULTS.imageId,
      InstanceType: pick('type') ?? JOB_DEFAULTS.instanceType,
      ResourceType: checkedValue(
        levels,
        'resource_type',
        (t) => oneOf(t.trim(), ['OnDemand', 'Spot'] as const),
        'OnDemand',
      ),
      ReserveOnFail: checkedValue(levels, 'reserve_on_fail', (t) => parseBool(t, 'reserve_on_fail'), false),
      ...(userData ? { UserData: parseEnv(userData.value) } : {}),
    },
  };
}
