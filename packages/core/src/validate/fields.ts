/**
 * Reading untrusted JSON: own-property access, field paths as the user wrote them, and the string and
 * map checks shared by job, task and mapping validation. Every failure is a ShoalError naming the path.
 */
import { invalidJob, missingParameter } from '../errors.js';
import { LIMITS, NAME_PATTERN, NAME_RULE } from './limits.js';

export type JsonObject = Readonly<Record<string, unknown>>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own property only: a key like `constructor` must not reach Object.prototype. */
export function get(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** JSON null means "not given" for optional fields; clients differ in sending null or leaving fields out. */
export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/** Own entries in the order the submitter wrote them. */
export function entriesOf(obj: JsonObject): [string, unknown][] {
  return Object.keys(obj).map((key) => [key, obj[key]]);
}

const SIMPLE_KEY = /^[A-Za-z0-9_-]+$/;

/** `DAG.Tasks` + `count` -> `DAG.Tasks.count`; keys that would read ambiguously are quoted: `X["a b"]`. */
export function keyPath(base: string, key: string): string {
  return SIMPLE_KEY.test(key) ? `${base}.${key}` : quotedPath(base, key);
}

/** `InputMapping` + `oss://b/x/` -> `InputMapping["oss://b/x/"]`. */
export function quotedPath(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}

export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

/** A required object: missing -> MissingParameter, anything but an object -> InvalidJobDescription. */
export function requireObject(value: unknown, path: string): JsonObject {
  if (isAbsent(value)) throw missingParameter(path);
  if (!isObject(value)) throw invalidJob(path, value, 'must be an object');
  return value;
}

/** An optional object; undefined when absent. */
export function optionalObject(value: unknown, path: string): JsonObject | undefined {
  if (isAbsent(value)) return undefined;
  if (!isObject(value)) throw invalidJob(path, value, 'must be an object');
  return value;
}

export function optionalString(value: unknown, path: string, maxLength?: number): string {
  if (isAbsent(value)) return '';
  if (typeof value !== 'string') throw invalidJob(path, value, 'must be a string');
  if (maxLength !== undefined && value.length > maxLength) {
    throw invalidJob(path, value, `must be at most ${maxLength} characters`);
  }
  return value;
}

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= LIMITS.maxNameLength && NAME_PATTERN.test(value);
}

/** A required job or task name. */
export function requireName(value: unknown, path: string): string {
  if (isAbsent(value)) throw missingParameter(path);
  if (!isValidName(value)) throw invalidJob(path, value, NAME_RULE);
  return value;
}

/**
 * Stringifies a scalar the way the Python SDK's `str()` does before sending, so a value typed by a
 * raw-JSON client reaches the task exactly as a Python-SDK user would see it (`true` -> "True").
 */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return undefined;
}

export interface StringMapOptions {
  /** Rejects a key: returns why, or undefined when it is fine. */
  readonly keyProblem?: (key: string) => string | undefined;
}

/** map<str,str> such as EnvVars or UserData; numbers and booleans are stringified, nothing else is. */
export function stringMap(
  value: unknown,
  path: string,
  options: StringMapOptions = {},
): Record<string, string> {
  const obj = optionalObject(value, path);
  if (!obj) return {};
  const result: [string, string][] = [];
  for (const [key, raw] of entriesOf(obj)) {
    const at = keyPath(path, key);
    const keyProblem = options.keyProblem?.(key);
    if (keyProblem) throw invalidJob(at, key, keyProblem);
    const text = scalarText(raw);
    if (text === undefined) throw invalidJob(at, raw, 'must be a string');
    if (text.includes('\0')) throw invalidJob(at, raw, 'must not contain NUL characters');
    result.push([key, text]);
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays an ordinary entry.
  return Object.fromEntries(result);
}
