/**
 * Plain-text tables: left-aligned columns separated by two spaces, header first. Cells may carry
 * colour codes (format/colour.ts); widths count visible characters only.
 */
import { visible } from './colour.js';

function padVisible(cell: string, width: number): string {
  return cell + ' '.repeat(Math.max(0, width - visible(cell).length));
}

/** Renders rows under a header; cells are padded to the widest cell of their column. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, col) =>
    Math.max(title.length, ...rows.map((row) => visible(row[col] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, col) => (col === cells.length - 1 ? cell : padVisible(cell, widths[col] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `Key:  value` lines with the keys aligned. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([key]) => key.length + 1));
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width)}  ${value}`.trimEnd()).join('\n') + '\n';
}
