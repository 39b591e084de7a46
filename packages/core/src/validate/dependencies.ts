/**
 * `DAG.Dependencies` maps a task to the tasks that run after it (`{"split": ["count"]}`: count waits
 * for split). JobSpec keeps the inverse, each task's predecessors, because that is what the scheduler
 * asks ("may this task start?").
 */
import { findCycle, formatCycle, topologicalOrder } from '../dag.js';
import { invalidJob } from '../errors.js';
import { entriesOf, indexPath, isAbsent, keyPath, optionalObject } from './fields.js';

export interface TaskGraph {
  /** Predecessors of every task (possibly []), names sorted. */
  readonly predecessors: Readonly<Record<string, readonly string[]>>;
  /** Task names in topological order, ties broken by name. */
  readonly order: readonly string[];
}

const PATH = 'DAG.Dependencies';

/** The successor names listed under one key: a list, or a single name as some hand-written jobs have. */
function successorsOf(value: unknown, path: string, from: string, known: ReadonlySet<string>): string[] {
  if (isAbsent(value)) return [];
  let items: [unknown, string][];
  if (typeof value === 'string') items = [[value, path]];
  else if (Array.isArray(value)) items = value.map((item: unknown, i) => [item, indexPath(path, i)]);
  else throw invalidJob(path, value, 'must be a list of task names');
  const names: string[] = [];
  for (const [item, at] of items) {
    if (typeof item !== 'string') throw invalidJob(at, item, 'must be a task name');
    if (!known.has(item)) throw invalidJob(at, item, 'unknown task');
    if (item === from) throw invalidJob(at, item, 'a task cannot run after itself');
    if (!names.includes(item)) names.push(item);
  }
  return names;
}

/** Reads DAG.Dependencies against the task names (in the order the tasks were written). */
export function readDependencies(value: unknown, taskNames: readonly string[]): TaskGraph {
  const deps = optionalObject(value, PATH) ?? {};
  const known = new Set(taskNames);
  const preds = new Map<string, string[]>(taskNames.map((name) => [name, []]));
  for (const [from, list] of entriesOf(deps)) {
    const path = keyPath(PATH, from);
    if (!known.has(from)) throw invalidJob(path, from, 'unknown task');
    for (const to of successorsOf(list, path, from, known)) {
      const into = preds.get(to)!;
      if (!into.includes(from)) into.push(from);
    }
  }
  const predecessors = Object.fromEntries(
    [...preds].map(([name, list]) => [name, [...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))]),
  );
  const cycle = findCycle(taskNames, predecessors);
  if (cycle)
    throw invalidJob(PATH, deps, `tasks must not depend on each other in a cycle: ${formatCycle(cycle)}`);
  return { predecessors, order: topologicalOrder(taskNames, predecessors) };
}
