import { open } from 'node:fs/promises';
import type { AttemptErrorCode, AttemptResult, AttemptUsage } from '@shoal/core';

/**
 * A reason an attempt failed, thrown inside the runner and turned into an AttemptResult at its edge:
 * runAttempt itself never throws for anything a user can cause.
 */
export class AttemptFailure extends Error {
  readonly code: Exclude<AttemptErrorCode, ''>;
  readonly detail: string;

  constructor(code: Exclude<AttemptErrorCode, ''>, message: string, detail = '') {
    super(message);
    this.name = 'AttemptFailure';
    this.code = code;
    this.detail = detail;
  }
}

/** What a run of the command produced (null fields when it never started). */
export interface CommandOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
}

export const NOT_RUN: CommandOutcome = Object.freeze({ exitCode: null, signal: null, durationMs: 0 });

/**
 * startedAtUs/endedAtUs span the whole attempt (staging, command, uploads);
 * durationMs is the command's own wall time.
 */
export function attemptResult(
  attemptId: string,
  startedAtUs: number,
  endedAtUs: number,
  outcome: CommandOutcome,
  failure: AttemptFailure | undefined,
  detail: string,
  usage?: AttemptUsage,
): AttemptResult {
  return {
    ...(usage ? { usage } : {}),
    attemptId,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    startedAtUs,
    endedAtUs,
    durationMs: outcome.durationMs,
    errorCode: failure?.code ?? '',
    errorMessage: failure?.message ?? '',
    detail: joinDetail(failure?.detail ?? '', detail),
  };
}

export function joinDetail(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('\n');
}

/** Unexpected errors (bugs, a full disk) still become a result, never an exception out of runAttempt. */
export function asFailure(
  err: unknown,
  fallback: Exclude<AttemptErrorCode, ''> = 'InternalError',
): AttemptFailure {
  if (err instanceof AttemptFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AttemptFailure(fallback, message);
}

/** The last `maxBytes` of a file as text, cut to whole lines where possible; '' when unreadable. */
export async function readTail(file: string, maxBytes = 2048): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    if (length === 0) return '';
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, size - length);
    let text = buf.toString('utf8');
    if (length < size) {
      const nl = text.indexOf('\n');
      if (nl >= 0 && nl < text.length - 1) text = text.slice(nl + 1);
    }
    return text.replace(/\s+$/, '');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}
