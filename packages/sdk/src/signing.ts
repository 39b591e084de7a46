/**
 * Request headers of the acs signature scheme (spec §3.1, §3.3). Signing itself is core's; this file
 * decides which headers the SDK sends, so that every one of them the signature covers is present.
 */
import { authorizationHeader, httpDate } from '@shoal/core';

/**
 * The BatchCompute API version every request names (`x-acs-version`).
 *
 * @example headers['x-acs-version'] === API_VERSION // '2015-11-11'
 */
export const API_VERSION = '2015-11-11';

/** Inputs of {@link signedHeaders}. */
export interface SignInput {
  method: string;
  /** Exact request target sent: path plus `?query`. */
  rawTarget: string;
  contentType: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Request time in ms since the epoch (becomes the `Date` header). */
  dateMs: number;
  /** Unique per request (`x-acs-signature-nonce`). */
  nonce: string;
}

/**
 * The full header set of one signed request, `Authorization` included.
 *
 * @example
 * const headers = signedHeaders({
 *   method: 'GET', rawTarget: '/jobs?MaxItemCount=10', contentType: 'application/json',
 *   accessKeyId: 'ak', accessKeySecret: 'sk', dateMs: Date.now(), nonce: crypto.randomUUID(),
 * });
 * headers.Authorization; // 'acs ak:...'
 */
export function signedHeaders(input: SignInput): Record<string, string> {
  const headers: Record<string, string> = {
    Date: httpDate(input.dateMs),
    Accept: 'application/json',
    'Content-Type': input.contentType,
    'x-acs-version': API_VERSION,
    'x-acs-signature-method': 'HMAC-SHA1',
    'x-acs-signature-version': '1.0',
    'x-acs-signature-nonce': input.nonce,
  };
  headers['Authorization'] = authorizationHeader(
    input.accessKeyId,
    input.accessKeySecret,
    input.method,
    input.rawTarget,
    headers,
  );
  return headers;
}
