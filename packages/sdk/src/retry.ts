/**
 * When and how long to wait before another attempt. Only requests that cannot do harm when repeated
 * are retried: GET/HEAD/PUT/DELETE, and POST only when the caller made it idempotent (a token).
 */

/**
 * True for statuses worth another attempt: server errors and throttling.
 *
 * @example isRetryableStatus(503) // true; isRetryableStatus(404) // false
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/**
 * Exponential backoff with "equal jitter": half the delay fixed, half random, so that clients that
 * failed together do not come back together.
 *
 * @example
 * backoffDelayMs(0, 200, 5000, () => 0.5); // 150
 * backoffDelayMs(10, 200, 5000, () => 1); // 5000 (capped)
 */
export function backoffDelayMs(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** Seconds of a `Retry-After` header as ms; undefined when absent or not a number of seconds. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it aborts.
 *
 * @example
 * await sleep(100, AbortSignal.timeout(1000));
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
