/**
 * Plain-text tables: left-aligned columns separated by two spaces, header first. No colours, so the
 * output reads the same in a terminal, a log file and a test.
 */

/** Renders rows under a header; cells are padded to the widest cell of their column. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, col) =>
    Math.max(title.length, ...rows.map((row) => (row[col] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, col) => (col === cells.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `Key:  value` lines with the keys aligned. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([key]) => key.length + 1));
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width)}  ${value}`.trimEnd()).join('\n') + '\n';
}
