/**
 * Graph logic for a job's task DAG, written over a predecessor map (task -> tasks that must finish
 * first), which is how JobSpec stores it. Results never depend on object key order or locale: names
 * are compared by code unit, so the same DAG always yields the same order and the same reported cycle.
 */

export type PredecessorMap = Readonly<Record<string, readonly string[]>>;

/** Thrown by `topologicalOrder` on a cyclic graph; `cycle` is a path like [a, b, a]. */
export class DagCycleError extends Error {
  readonly cycle: readonly string[];

  constructor(cycle: readonly string[]) {
    super(`task dependencies form a cycle: ${formatCycle(cycle)}`);
    this.name = 'DagCycleError';
    this.cycle = cycle;
  }
}

/** `[a, b, a]` -> `a -> b -> a`. */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(' -> ');
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function predecessorsOf(predecessors: PredecessorMap, name: string): readonly string[] {
  return Object.hasOwn(predecessors, name) ? (predecessors[name] ?? []) : [];
}

/**
 * Successor lists (sorted) for every name. Throws when a predecessor is not one of `names`: that is
 * a caller bug, the validator rejects unknown tasks long before.
 */
function successorMap(names: readonly string[], predecessors: PredecessorMap): Map<string, string[]> {
  const successors = new Map<string, string[]>(names.map((name) => [name, []]));
  for (const name of names) {
    for (const pred of predecessorsOf(predecessors, name)) {
      const list = successors.get(pred);
      if (!list)
        throw new Error(`task ${JSON.stringify(name)} depends on unknown task ${JSON.stringify(pred)}`);
      if (!list.includes(name)) list.push(name);
    }
  }
  for (const list of successors.values()) list.sort(byCodeUnit);
  return successors;
}

/**
 * Every name after all of its predecessors; among tasks that are ready at the same time the smaller
 * name comes first. Throws DagCycleError when there is no such order.
 */
export function topologicalOrder(allNames: readonly string[], predecessors: PredecessorMap): string[] {
  const names = [...new Set(allNames)];
  const successors = successorMap(names, predecessors);
  const waitingOn = new Map<string, number>();
  for (const name of names) waitingOn.set(name, new Set(predecessorsOf(predecessors, name)).size);

  const ready = names.filter((name) => waitingOn.get(name) === 0).sort(byCodeUnit);
  const order: string[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(name);
    for (const next of successors.get(name) ?? []) {
      const left = (waitingOn.get(next) ?? 0) - 1;
      waitingOn.set(next, left);
      if (left === 0) insertSorted(ready, next);
    }
  }
  if (order.length < names.length) {
    throw new DagCycleError(findCycle(names, predecessors) ?? []);
  }
  return order;
}

function insertSorted(list: string[], name: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byCodeUnit(list[mid]!, name) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, name);
}

/**
 * One cycle as a path in run order (`[a, b, a]`: b runs after a, a after b), or undefined when the
 * graph is acyclic. Iterative depth-first search, so deep chains cannot overflow the stack.
 */
export function findCycle(names: readonly string[], predecessors: PredecessorMap): string[] | undefined {
  const successors = successorMap(names, predecessors);
  const done = new Set<string>();
  for (const root of [...new Set(names)].sort(byCodeUnit)) {
    if (done.has(root)) continue;
    const path: string[] = [root];
    const onPath = new Set<string>([root]);
    const cursors: number[] = [0];
    while (path.length > 0) {
      const top = path[path.length - 1]!;
      const next = (successors.get(top) ?? [])[cursors[cursors.length - 1]!];
      if (next === undefined) {
        path.pop();
        cursors.pop();
        onPath.delete(top);
        done.add(top);
        continue;
      }
      cursors[cursors.length - 1]! += 1;
      if (onPath.has(next)) return [...path.slice(path.indexOf(next)), next];
      if (done.has(next)) continue;
      path.push(next);
      onPath.add(next);
      cursors.push(0);
    }
  }
  return undefined;
}
