/**
 * Integers and booleans of a JobDescription. Besides JSON numbers and booleans these accept the string
 * forms other vendors' docs and hand-written job files use ("5", "true"), and nothing looser: a float,
 * an empty string or a boolean where a number belongs is an error, never silently rounded or defaulted.
 */
import { invalidJob } from '../errors.js';
import { isAbsent } from './fields.js';

export interface IntRange {
  readonly min: number;
  readonly max: number;
  /** Used when the field is absent (undefined or null). */
  readonly fallback: number;
}

const DECIMAL_INTEGER = /^-?[0-9]+$/;

/** The integer a JSON value denotes, or undefined when it denotes none. */
export function parseInteger(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) n = Number(value);
  else return undefined;
  // `+ 0` turns -0 (JSON "-0") into 0, so it never shows up in a stored spec.
  return Number.isSafeInteger(n) ? n + 0 : undefined;
}

export function rangeRule(range: Pick<IntRange, 'min' | 'max'>): string {
  return `must be an integer from ${range.min} to ${range.max}`;
}

export function readInt(value: unknown, path: string, range: IntRange): number {
  if (isAbsent(value)) return range.fallback;
  const n = parseInteger(value);
  if (n === undefined || n < range.min || n > range.max) throw invalidJob(path, value, rangeRule(range));
  return n;
}

/** The boolean a JSON value denotes: true/false or "true"/"false" in any letter case. */
export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return undefined;
}

export function readBool(value: unknown, path: string, fallback: boolean): boolean {
  if (isAbsent(value)) return fallback;
  const b = parseBoolean(value);
  if (b === undefined) throw invalidJob(path, value, 'must be true or false');
  return b;
}
