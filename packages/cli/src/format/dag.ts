/**
 * `shoal sub --show_dag`: the task graph as text, one row per level (a task sits one level below its
 * deepest predecessor), with the edges between two rows written out.
 */

/** What a DAG row needs of a task. */
export interface DagTask {
  InstanceCount: number;
}

/**
 * @example
 * renderDag({ a: { InstanceCount: 1 }, b: { InstanceCount: 3 } }, { a: ['b'] })
 * // '[a x1]\n   |  a -> b\n   v\n[b x3]\n'
 */
export function renderDag(
  tasks: Readonly<Record<string, DagTask>>,
  deps: Readonly<Record<string, readonly string[]>> = {},
): string {
  const names = Object.keys(tasks);
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const preds = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const [from, tos] of Object.entries(deps)) for (const to of tos) preds.get(to)?.push(from);
  const depth = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) throw new Error(`the dependencies have a cycle through ${name}`);
    visiting.add(name);
    const d = Math.max(-1, ...(preds.get(name) ?? []).map(depth)) + 1;
    visiting.delete(name);
    level.set(name, d);
    return d;
  };
  names.forEach(depth);
  const rows: string[][] = [];
  for (const name of names) (rows[level.get(name)!] ??= []).push(name);
  const lines: string[] = [];
  rows.forEach((row, i) => {
    if (i > 0) {
      const edges = rows[i - 1]!.flatMap((from) =>
        (deps[from] ?? []).filter((to) => row.includes(to)).map((to) => `${from} -> ${to}`),
      );
      const skips = rows
        .slice(0, i - 1)
        .flat()
        .flatMap((from) =>
          (deps[from] ?? []).filter((to) => row.includes(to)).map((to) => `${from} -> ${to}`),
        );
      lines.push(`   |  ${[...edges, ...skips].join(', ')}`, '   v');
    }
    lines.push(row.map((n) => `[${n} x${tasks[n]!.InstanceCount}]`).join('  '));
  });
  return `${lines.join('\n')}\n`;
}
