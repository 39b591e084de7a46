/**
 * API errors as the SDK reports them. The server answers non-2xx with `{Code, Message, RequestId, HostId}`;
 * callers branch on `code` (the wire `Code`), never on the message.
 */

/** Codes the SDK itself produces (the rest come from the server's error catalog). */
export type ClientErrorCode = 'InvalidResponse' | 'NetworkError' | 'RequestTimeout';

/** Construction fields of {@link ShoalApiError}. */
export interface ShoalApiErrorInit {
  code: string;
  message: string;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  requestId?: string;
  hostId?: string;
  cause?: unknown;
}

/**
 * A failed API call: server error, unreadable response, timeout or network failure.
 *
 * @example
 * try {
 *   await client.getJob('job-missing');
 * } catch (err) {
 *   if (err instanceof ShoalApiError && err.code === 'InvalidResource.NotFound') console.log('gone');
 * }
 */
export class ShoalApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId: string;
  readonly hostId: string;

  constructor(init: ShoalApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ShoalApiError';
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId ?? '';
    this.hostId = init.hostId ?? '';
  }
}

/**
 * True when the request found nothing listening at the endpoint (ECONNREFUSED anywhere in the cause chain).
 *
 * @example if (isConnectionRefused(err)) console.error('is the server running?')
 */
export function isConnectionRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if ((e as { code?: unknown }).code === 'ECONNREFUSED') return true;
  return false;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Builds the error for a non-2xx response from its status, `x-acs-request-id` header and body text.
 * A body that is not an error object gives code `InvalidResponse`; an empty 404 (HEAD has no body)
 * gives `InvalidResource.NotFound`.
 *
 * @example
 * const err = parseApiError(404, 'req-1', '{"Code":"InvalidResource.NotFound","Message":"no job"}');
 * err.code; // 'InvalidResource.NotFound'
 */
export function parseApiError(status: number, headerRequestId: string | null, body: string): ShoalApiError {
  let parsed: unknown;
  try {
    parsed = body.trim() === '' ? undefined : JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const fields = parsed as Record<string, unknown>;
    const code = text(fields['Code']) ?? text(fields['ErrorCode']);
    if (code) {
      return new ShoalApiError({
        code,
        message: text(fields['Message']) ?? text(fields['ErrorMessage']) ?? `HTTP ${status}`,
        status,
        requestId: text(fields['RequestId']) ?? headerRequestId ?? '',
        hostId: text(fields['HostId']) ?? '',
      });
    }
  }
  if (body.trim() === '' && status === 404) {
    return new ShoalApiError({
      code: 'InvalidResource.NotFound',
      message: 'Specified resource is not found.',
      status,
      requestId: headerRequestId ?? '',
    });
  }
  const snippet = body.length > 200 ? `${body.slice(0, 200)}...` : body;
  return new ShoalApiError({
    code: 'InvalidResponse',
    message: `HTTP ${status} with a body that is not an API error${snippet ? `: ${snippet}` : ''}`,
    status,
    requestId: headerRequestId ?? '',
  });
}
