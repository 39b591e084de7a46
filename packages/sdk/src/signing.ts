/**
 * Request headers of the acs signature scheme (spec §3.1, §3.3): which headers the SDK sends, so that
 * every one of them the signature covers is present, and the signature over them (WebCrypto).
 */
import { buildStringToSign, httpDateOf } from './canonical.js';
import { HmacSha1 } from './hmac.js';

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
  /** Request time in ms since the epoch (becomes the `Date` header, or `x-acs-date`). */
  dateMs: number;
  /**
   * Which header carries the date: `Date` (default), or `x-acs-date`, which the signature then uses
   * instead (browsers refuse to send a `Date` header of their own).
   */
  dateHeader?: 'Date' | 'x-acs-date';
  /** Unique per request (`x-acs-signature-nonce`). */
  nonce: string;
  /** Further headers to send and sign (e.g. `x-acs-region-id`); they win over the defaults. */
  extraHeaders?: Readonly<Record<string, string>>;
  /** Signer to reuse (keeps imported keys); a fresh one otherwise. */
  signer?: HmacSha1;
}

/**
 * `acs <AccessKeyId>:<signature>` for a request whose headers are final.
 *
 * @example
 * await authorization('ak', 'sk', 'GET', '/jobs', headers) // 'acs ak:...'
 */
export async function authorization(
  accessKeyId: string,
  accessKeySecret: string,
  method: string,
  rawTarget: string,
  headers: Readonly<Record<string, string>>,
  signer: HmacSha1 = new HmacSha1(),
): Promise<string> {
  const signature = await signer.sign(accessKeySecret, buildStringToSign(method, rawTarget, headers));
  return `acs ${accessKeyId}:${signature}`;
}

/**
 * The full header set of one signed request, `Authorization` included.
 *
 * @example
 * const headers = await signedHeaders({
 *   method: 'GET', rawTarget: '/jobs?MaxItemCount=10', contentType: 'application/json',
 *   accessKeyId: 'ak', accessKeySecret: 'sk', dateMs: Date.now(), nonce: crypto.randomUUID(),
 * });
 * headers.Authorization; // 'acs ak:...'
 */
export async function signedHeaders(input: SignInput): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    [input.dateHeader ?? 'Date']: httpDateOf(input.dateMs),
    Accept: 'application/json',
    'Content-Type': input.contentType,
    'x-acs-version': API_VERSION,
    'x-acs-signature-method': 'HMAC-SHA1',
    'x-acs-signature-version': '1.0',
    'x-acs-signature-nonce': input.nonce,
    ...input.extraHeaders,
  };
  headers['Authorization'] = await authorization(
    input.accessKeyId,
    input.accessKeySecret,
    input.method,
    input.rawTarget,
    headers,
    input.signer,
  );
  return headers;
}
