/**
 * Coloured states: only when the output is a terminal and NO_COLOR is unset (https://no-color.org),
 * so pipes, files and tests see plain text.
 */
import type { CliContext, CliOutput } from '../context.js';

const CODES: Readonly<Record<string, string>> = {
  Finished: '32',
  Running: '36',
  Waiting: '33',
  Failed: '31',
  Stopped: '35',
  Active: '32',
  Disabled: '31',
};

/** Whether to colour what goes to `out`. */
export function useColour(ctx: CliContext, out: CliOutput = ctx.stdout): boolean {
  return Boolean(out.isTTY) && !ctx.env['NO_COLOR'];
}

/**
 * A state word in its colour (green Finished, red Failed, ...), or as is.
 *
 * @example paintState('Failed', true) // '\x1b[31mFailed\x1b[0m'
 */
export function paintState(state: string, colour: boolean): string {
  const code = CODES[state];
  return colour && code ? `\x1b[${code}m${state}\x1b[0m` : state;
}

/** The text without ANSI colour codes (for measuring cell widths). */
export function visible(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
