/**
 * Client options and their defaults, all in one place.
 */

/** What a {@link ShoalClient} needs to reach and authenticate to a Shoal (or BatchCompute) server. */
export interface ShoalClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:7720`. */
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  /**
   * A worker token (`wt-….<secret>`): requests carry it as `Authorization: Bearer` instead of an acs
   * signature. It reaches the worker routes only; the access key fields are then ignored (pass '').
   */
  workerToken?: string;
  /** Fetch implementation; defaults to the global `fetch` (Node 20, browsers). */
  fetch?: typeof fetch;
  /** Extra attempts after a failed retryable request (5xx, 429, network error). Default 3. */
  retries?: number;
  /** Limit for one attempt, until the whole response body is read (streams: until headers). Default 30 s. */
  timeoutMs?: number;
  /** First backoff delay; doubles per attempt, with jitter. Default 200 ms. */
  retryBaseDelayMs?: number;
  /** Upper bound of one backoff delay. Default 5 s. */
  retryMaxDelayMs?: number;
  /**
   * Send uploads with progress as a streamed body (real progress). Default: true in Node; false
   * elsewhere, since browsers stream request bodies only over HTTP/2.
   */
  streamUploads?: boolean;
  /**
   * Retry when nothing listens at the endpoint (connection refused), as other network errors are: a
   * server restarting comes back. Default true; interactive tools set false to report it at once.
   */
  retryRefusedConnections?: boolean;
}

/** {@link ShoalClientOptions} with every default applied (frozen). */
export interface ResolvedShoalClientOptions {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** '' when requests are signed with the access key. */
  readonly workerToken: string;
  readonly fetch: typeof fetch;
  readonly retries: number;
  readonly timeoutMs: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly streamUploads: boolean;
  readonly retryRefusedConnections: boolean;
}

/**
 * Defaults of the optional client options.
 *
 * @example new ShoalClient({ ...connection, timeoutMs: CLIENT_DEFAULTS.timeoutMs * 2 })
 */
export const CLIENT_DEFAULTS = Object.freeze({
  retries: 3,
  timeoutMs: 30_000,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 5_000,
});

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof proc?.versions?.node === 'string';
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0)
    throw new TypeError(`${name} must be a non-negative number, got ${value}`);
  return value;
}

/**
 * Applies defaults and checks the options; throws a TypeError naming the bad option.
 *
 * @example
 * const resolved = resolveShoalClientOptions({ endpoint: 'http://127.0.0.1:7720/', accessKeyId: 'ak', accessKeySecret: 'sk' });
 * resolved.endpoint; // 'http://127.0.0.1:7720'
 * resolved.retries; // 3
 */
export function resolveShoalClientOptions(options: ShoalClientOptions): ResolvedShoalClientOptions {
  let url: URL;
  try {
    url = new URL(options.endpoint);
  } catch {
    throw new TypeError(`endpoint must be an http(s) URL, got ${JSON.stringify(options.endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`endpoint must be an http(s) URL, got ${JSON.stringify(options.endpoint)}`);
  }
  if (!options.workerToken && !options.accessKeyId) throw new TypeError('accessKeyId is required');
  if (!options.workerToken && !options.accessKeySecret) throw new TypeError('accessKeySecret is required');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('no fetch implementation: pass options.fetch');
  return Object.freeze({
    endpoint: (url.origin + url.pathname).replace(/\/+$/, ''),
    accessKeyId: options.accessKeyId,
    accessKeySecret: options.accessKeySecret,
    workerToken: options.workerToken ?? '',
    // Bound so that a browser's fetch is not called with the options object as `this`.
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    retries: Math.floor(nonNegative('retries', options.retries, CLIENT_DEFAULTS.retries)),
    timeoutMs: nonNegative('timeoutMs', options.timeoutMs, CLIENT_DEFAULTS.timeoutMs),
    retryBaseDelayMs: nonNegative(
      'retryBaseDelayMs',
      options.retryBaseDelayMs,
      CLIENT_DEFAULTS.retryBaseDelayMs,
    ),
    retryMaxDelayMs: nonNegative('retryMaxDelayMs', options.retryMaxDelayMs, CLIENT_DEFAULTS.retryMaxDelayMs),
    retryRefusedConnections: options.retryRefusedConnections ?? true,
    streamUploads: options.streamUploads ?? isNode(),
  });
}
