/**
 * The entry point of JobDescription validation: raw parsed JSON in, a normalised JobSpec out, or the
 * first problem as a ShoalError (job fields, then tasks in the order written, then dependencies).
 * The input is only read, never changed; the server stores it verbatim for `GET /jobs/{id}?description`.
 */
import { invalidJob } from '../errors.js';
import { PRIORITY_MAX, PRIORITY_MIN, type JobSpec, type TaskSpec } from '../job-spec.js';
import { readDependencies } from './dependencies.js';
import {
  entriesOf,
  get,
  isAbsent,
  isObject,
  isValidName,
  keyPath,
  optionalString,
  requireName,
  requireObject,
} from './fields.js';
import { JOB_DEFAULTS, LIMITS, NAME_RULE } from './limits.js';
import { readNotification } from './notification.js';
import { readBool, readInt } from './numbers.js';
import { readTask } from './task.js';

function checkType(value: unknown): void {
  if (isAbsent(value) || value === 'DAG') return;
  if (value === 'App') throw invalidJob('Type', value, 'App jobs are not supported yet; use "DAG"');
  throw invalidJob('Type', value, 'must be "DAG" or "App"');
}

function readTasks(value: unknown): Map<string, TaskSpec> {
  const tasks = requireObject(value, 'DAG.Tasks');
  const entries = entriesOf(tasks);
  if (entries.length === 0) throw invalidJob('DAG.Tasks', tasks, 'must contain at least one task');
  if (entries.length > LIMITS.maxTasks) {
    throw invalidJob('DAG.Tasks', entries.length, `must contain at most ${LIMITS.maxTasks} tasks`);
  }
  const specs = new Map<string, TaskSpec>();
  for (const [name, raw] of entries) {
    const path = keyPath('DAG.Tasks', name);
    if (!isValidName(name)) throw invalidJob(path, name, `task names ${NAME_RULE}`);
    specs.set(name, readTask(name, raw, path));
  }
  return specs;
}

/**
 * Validates a submitted JobDescription (the parsed request body of `POST /jobs`).
 * @throws ShoalError `InvalidJobDescription` or `MissingParameter`, naming the field and the value.
 */
/** How deep a job description may nest: far more than any real one, far less than the stack allows. */
export const MAX_DESCRIPTION_DEPTH = 64;

/** Whether `value` nests objects or arrays deeper than `max` levels; iterative, so any depth is safe. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

export function validateJobDescription(raw: unknown): JobSpec {
  if (!isObject(raw)) throw invalidJob('JobDescription', raw, 'must be a JSON object');
  if (nestedDeeperThan(raw, MAX_DESCRIPTION_DEPTH))
    throw invalidJob(
      'JobDescription',
      raw,
      `must not nest objects or arrays more than ${MAX_DESCRIPTION_DEPTH} levels deep`,
    );
  checkType(get(raw, 'Type'));
  const name = requireName(get(raw, 'Name'), 'Name');
  const description = optionalString(get(raw, 'Description'), 'Description', LIMITS.maxDescriptionLength);
  const priority = readInt(get(raw, 'Priority'), 'Priority', {
    min: PRIORITY_MIN,
    max: PRIORITY_MAX,
    fallback: JOB_DEFAULTS.priority,
  });
  const jobFailOnInstanceFail = readBool(
    get(raw, 'JobFailOnInstanceFail'),
    'JobFailOnInstanceFail',
    JOB_DEFAULTS.jobFailOnInstanceFail,
  );
  const autoRelease = readBool(get(raw, 'AutoRelease'), 'AutoRelease', JOB_DEFAULTS.autoRelease);
  const notification = readNotification(get(raw, 'Notification'));
  const dag = requireObject(get(raw, 'DAG'), 'DAG');
  const specs = readTasks(get(dag, 'Tasks'));
  const graph = readDependencies(get(dag, 'Dependencies'), [...specs.keys()]);
  const tasks = graph.order.map((taskName) => specs.get(taskName)!);
  return {
    name,
    description,
    priority,
    jobFailOnInstanceFail,
    autoRelease,
    notification,
    tasks,
    predecessors: graph.predecessors,
  };
}
