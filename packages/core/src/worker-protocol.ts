/**
 * The worker protocol's bodies, as the server reads them from agents (docs/api.md, "Worker protocol").
 * It is Shoal's own protocol between a server and agents of the same version: assignments and results
 * travel in their domain shapes. A malformed body is refused naming the field; a result is only ever
 * recorded for an attempt the reporting worker holds (the store checks that).
 */
import type { AttemptResult, AttemptUsage } from './attempt.js';
import { ATTEMPT_ERROR_CODES } from './attempt.js';
import { invalidParameter } from './errors.js';

export const WORKER_ID = /^i-[0-9a-f]{20}$/;
/** Attempts reported or claimed in one exchange: a worker's slots are bounded, so are its messages. */
export const MAX_EXCHANGE = 1000;

/** What an exchange carries beside its results and how many attempts it wants. */
export interface ExchangeOptions {
  /** How many of those wanted are beyond the worker's free slots (claimed ahead). */
  readonly ahead?: number;
  /** Attempts claimed ahead that the worker gives back unstarted (Waiting again, as if never claimed). */
  readonly returned?: readonly string[];
}

type Body = Record<string, unknown>;

function objectAt(v: unknown, field: string): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidParameter(field, v, 'must be an object');
  return v as Body;
}

function numberAt(b: Body, key: string, field: string, nullable: boolean): number | null {
  const v = b[key];
  if (v === null && nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalidParameter(`${field}.${key}`, v, 'must be a number');
  return v;
}

function stringAt(b: Body, key: string, field: string, max: number): string {
  const v = b[key];
  if (typeof v !== 'string') throw invalidParameter(`${field}.${key}`, v, 'must be a string');
  return v.slice(0, max);
}

function usageAt(v: unknown, field: string): AttemptUsage | undefined {
  if (v === undefined || v === null) return undefined;
  const u = objectAt(v, field);
  return {
    cpuMs: numberAt(u, 'cpuMs', field, true),
    peakMemoryBytes: numberAt(u, 'peakMemoryBytes', field, true),
  };
}

export function readAttemptResults(value: unknown, field = 'Results'): AttemptResult[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidParameter(field, value, 'must be an array');
  if (value.length > MAX_EXCHANGE)
    throw invalidParameter(field, value.length, `must hold at most ${MAX_EXCHANGE}`);
  return value.map((raw, i) => {
    const at = `${field}[${i}]`;
    const r = objectAt(raw, at);
    const errorCode = stringAt(r, 'errorCode', at, 64);
    if (!(ATTEMPT_ERROR_CODES as readonly string[]).includes(errorCode))
      throw invalidParameter(`${at}.errorCode`, errorCode, 'must be an attempt error code');
    const signal = r.signal === null ? null : stringAt(r, 'signal', at, 32);
    const usage = usageAt(r.usage, `${at}.usage`);
    return {
      attemptId: stringAt(r, 'attemptId', at, 600),
      exitCode: numberAt(r, 'exitCode', at, true),
      signal,
      startedAtUs: numberAt(r, 'startedAtUs', at, false)!,
      endedAtUs: numberAt(r, 'endedAtUs', at, false)!,
      durationMs: numberAt(r, 'durationMs', at, false)!,
      errorCode: errorCode as AttemptResult['errorCode'],
      errorMessage: stringAt(r, 'errorMessage', at, 4000),
      detail: stringAt(r, 'detail', at, 16_000),
      ...(usage ? { usage } : {}),
    };
  });
}

export function readAttemptIds(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_EXCHANGE || value.some((v) => typeof v !== 'string'))
    throw invalidParameter(field, value, `must be an array of at most ${MAX_EXCHANGE} attempt ids`);
  return value as string[];
}

export function readCount(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw invalidParameter(field, value, `must be a whole number from 0 to ${max}`);
  return value;
}
