/**
 * Checked option values. Every numeric or enumerated flag of every command goes through these, and so do
 * the same settings in a job.cfg, so a bad value is refused the same way everywhere (exit 2), with the
 * value and what is allowed. The pure parsers throw OptionValueError with the reason only; `checked`
 * adapts them for commander, which adds the flag and the value to the message.
 */
import { InvalidArgumentError } from 'commander';
import { items as listItems } from './jobcfg/pairs.js';

/** Why a value is unusable, without naming where it came from (the caller knows that). */
export class OptionValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionValueError';
  }
}

/** A whole number in [min, max], written in decimal digits only (no sign, unit or fraction). */
export function wholeNumber(text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const allowed =
    max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`;
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) throw new OptionValueError(`expected ${allowed}`);
  const n = Number(trimmed);
  if (n < min || n > max) throw new OptionValueError(`expected ${allowed}`);
  return n;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { d: 86400, h: 3600, m: 60, s: 1 };

/**
 * A duration in whole seconds, at least 1: plain seconds (`600`) or units d/h/m/s, largest first
 * (`90s`, `10m`, `1h30m`, `2d`).
 */
export function durationSeconds(text: string): number {
  const trimmed = text.trim().toLowerCase();
  const reason =
    'expected a duration of at least 1 second: seconds (600) or with units d, h, m, s (10m, 1h30m)';
  let seconds: number;
  if (/^\d+$/.test(trimmed)) {
    seconds = Number(trimmed);
  } else {
    const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(trimmed);
    if (!match || trimmed === '') throw new OptionValueError(reason);
    seconds = ['d', 'h', 'm', 's'].reduce(
      (sum, unit, i) => sum + Number(match[i + 1] ?? 0) * UNIT_SECONDS[unit]!,
      0,
    );
  }
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new OptionValueError(reason);
  return seconds;
}

/** One of `allowed`, compared exactly. */
export function oneOf<T extends string>(text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text))
    throw new OptionValueError(`expected one of ${allowed.join(', ')}`);
  return text as T;
}

/** A comma-separated list, each item one of `allowed` (case-insensitive, returned as spelled in `allowed`). */
export function listOf<T extends string>(text: string, allowed: readonly T[]): T[] {
  const items = listItems(text);
  if (items.length === 0)
    throw new OptionValueError(`expected one or more of ${allowed.join(', ')}, comma-separated`);
  return items.map((item) => {
    const found = allowed.find((a) => a.toLowerCase() === item.toLowerCase());
    if (!found)
      throw new OptionValueError(`"${item}" is not one of ${allowed.join(', ')} (comma-separate several)`);
    return found;
  });
}

/**
 * A commander argument parser from a pure one: commander then reports
 * `option '-n, --nodes <n>' argument 'abc' is invalid. expected a whole number >= 1` and the CLI exits 2.
 */
export function checked<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      if (err instanceof OptionValueError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  };
}

/** The same check, returning the value as text again (for options that are merged with job.cfg text). */
export function checkedText(parse: (text: string) => number | string): (text: string) => string {
  return checked((text) => String(parse(text)));
}
