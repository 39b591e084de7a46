/**
 * One signed HTTP exchange with retries and a per-attempt timeout. Every attempt is signed afresh
 * (new Date and nonce), so a retried request is never rejected as a replay or as too old.
 */
import { isConnectionRefused, parseApiError, ShoalApiError } from './errors.js';
import type { ResolvedShoalClientOptions } from './options.js';
import { buildQuery, type QueryParams } from './query.js';
import { backoffDelayMs, isRetryableStatus, retryAfterMs, sleep } from './retry.js';
import { HmacSha1 } from './hmac.js';
import { toBase64 } from './hmac.js';
import { md5 } from './md5.js';
import { signedHeaders } from './signing.js';

/** A web page (the console): fetch there drops a `Date` header, so the date goes in `x-acs-date`. */
const IN_BROWSER = typeof (globalThis as { document?: unknown }).document !== 'undefined';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/** One API request, before signing. */
export interface RequestSpec {
  method: HttpMethod;
  /** Already-encoded path starting with '/', e.g. from resourcePath(). */
  path: string;
  query?: QueryParams;
  /** JSON body (sent as application/json). */
  json?: unknown;
  /** Raw body (sent as application/octet-stream). */
  bytes?: Uint8Array;
  /** A streamed raw body, made afresh for each attempt (Node: large uploads without buffering them). */
  stream?: () => ReadableStream<Uint8Array>;
  /**
   * Called with the bytes of `bytes` handed to the connection so far; the body is then streamed in
   * chunks (when the client streams uploads), else reported once sent.
   */
  onUploadProgress?: (sentBytes: number) => void;
  /** Whether failures may be retried; default: every method but POST. */
  retry?: boolean;
  signal?: AbortSignal;
}

/** A successful response with its whole body read. */
export interface BufferedResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

class AttemptTimeout extends Error {}

/** Sends signed requests for a client; see {@link ShoalClient} for the public surface. */
export class Transport {
  private readonly signer = new HmacSha1();

  constructor(private readonly options: ResolvedShoalClientOptions) {}

  /** Sends the request and reads the whole body; throws ShoalApiError for anything but 2xx. */
  request(spec: RequestSpec): Promise<BufferedResponse> {
    return this.run(spec, false, async (response) => ({
      status: response.status,
      headers: response.headers,
      body: new Uint8Array(await response.arrayBuffer()),
    }));
  }

  /** Sends the request and parses a JSON body; an empty body yields undefined. */
  async requestJson<T>(spec: RequestSpec): Promise<T> {
    const response = await this.request(spec);
    const text = new TextDecoder().decode(response.body);
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ShoalApiError({
        code: 'InvalidResponse',
        message: `${spec.method} ${spec.path}: response is not JSON: ${text.slice(0, 200)}`,
        status: response.status,
        requestId: response.headers.get('x-acs-request-id') ?? '',
        cause: err,
      });
    }
  }

  /** Sends the request and returns the response once its headers arrived; the body is the caller's. */
  open(spec: RequestSpec): Promise<Response> {
    return this.run(spec, true, async (response) => response);
  }

  private async run<T>(
    spec: RequestSpec,
    stream: boolean,
    consume: (response: Response) => Promise<T>,
  ): Promise<T> {
    const { options } = this;
    const retryable = spec.retry ?? spec.method !== 'POST';
    const attempts = retryable ? options.retries + 1 : 1;
    const url = new URL(options.endpoint + spec.path + buildQuery(spec.query));
    // Signed from the URL as fetch will send it, so normalisation can never split signer and sender.
    const rawTarget = url.pathname + url.search;
    const contentType = spec.bytes || spec.stream ? 'application/octet-stream' : 'application/json';
    const fixedBody =
      spec.bytes ??
      (spec.json === undefined ? undefined : new TextEncoder().encode(JSON.stringify(spec.json)));
    // Content-MD5 is part of the signed string: the server refuses a body that changed on the way.
    const contentMd5 = fixedBody === undefined ? undefined : toBase64(md5(fixedBody));
    const streamed = spec.bytes !== undefined && spec.onUploadProgress !== undefined && options.streamUploads;

    for (let attempt = 0; ; attempt++) {
      const isLast = attempt + 1 >= attempts;
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new AttemptTimeout()), options.timeoutMs);
      const signal = spec.signal ? AbortSignal.any([spec.signal, timeout.signal]) : timeout.signal;
      let waitMs: number | undefined;
      try {
        const headers = options.workerToken
          ? workerHeaders(options.workerToken, contentType, contentMd5)
          : await signedHeaders({
              method: spec.method,
              rawTarget,
              contentType,
              accessKeyId: options.accessKeyId,
              accessKeySecret: options.accessKeySecret,
              dateMs: Date.now(),
              ...(IN_BROWSER ? { dateHeader: 'x-acs-date' as const } : {}),
              nonce: globalThis.crypto.randomUUID(),
              signer: this.signer,
              ...(contentMd5 ? { extraHeaders: { 'Content-MD5': contentMd5 } } : {}),
            });
        const init: RequestInit & { duplex?: 'half' } = { method: spec.method, headers, signal };
        if (spec.stream) {
          init.body = spec.stream();
          init.duplex = 'half';
        } else if (streamed) {
          // Every attempt streams afresh; `duplex` is what fetch requires for a stream body.
          init.body = chunkedStream(spec.bytes!, spec.onUploadProgress!);
          init.duplex = 'half';
        } else {
          init.body = fixedBody;
        }
        const response = await options.fetch(url, init);
        if (!streamed && spec.bytes) spec.onUploadProgress?.(spec.bytes.byteLength);
        if (stream) clearTimeout(timer);
        if (response.ok) return await consume(response);
        const text = await response.text();
        if (isLast || !isRetryableStatus(response.status)) {
          throw parseApiError(response.status, response.headers.get('x-acs-request-id'), text);
        }
        waitMs = retryAfterMs(response.headers.get('retry-after'));
      } catch (err) {
        if (err instanceof ShoalApiError) throw err;
        if (spec.signal?.aborted) throw spec.signal.reason;
        const timedOut = timeout.signal.aborted;
        if (isLast || (!options.retryRefusedConnections && isConnectionRefused(err))) {
          const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
          throw new ShoalApiError({
            code: timedOut ? 'RequestTimeout' : 'NetworkError',
            message: timedOut
              ? `${spec.method} ${url.origin}${url.pathname}: no complete response within ${options.timeoutMs} ms`
              : `${spec.method} ${url.origin}${url.pathname}: ${cause instanceof Error ? cause.message : String(cause)}`,
            status: 0,
            cause: err,
          });
        }
      } finally {
        clearTimeout(timer);
      }
      const backoff = backoffDelayMs(attempt, options.retryBaseDelayMs, options.retryMaxDelayMs);
      await sleep(Math.min(Math.max(backoff, waitMs ?? 0), options.retryMaxDelayMs), spec.signal);
    }
  }
}

/** Headers of a request authenticated by a worker token (worker routes only). */
function workerHeaders(
  token: string,
  contentType: string,
  contentMd5: string | undefined,
): Record<string, string> {
  return {
    Authorization: `Bearer ${token}`,
    'Content-Type': contentType,
    ...(contentMd5 ? { 'Content-MD5': contentMd5 } : {}),
  };
}

const CHUNK_BYTES = 64 * 1024;

/** The bytes as a stream of chunks, reporting how much the connection has pulled. */
function chunkedStream(
  bytes: Uint8Array,
  onProgress: (sentBytes: number) => void,
): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      const end = Math.min(offset + CHUNK_BYTES, bytes.byteLength);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
      onProgress(offset);
    },
  });
}
