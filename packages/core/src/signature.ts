/**
 * The `acs` request signature of BatchCompute (spec §3.3–3.5):
 *
 *   Authorization: acs <AccessKeyId>:base64(HMAC-SHA1(secret, StringToSign))
 *   StringToSign = VERB \n Accept \n Content-MD5 \n Content-Type \n Date \n <x-acs-* headers> <resource>
 *
 * Official clients disagree on the resource: the Python SDK signs the raw request target, the Node SDK the
 * decoded path plus decoded, name-sorted query. A verifier accepts either (canonicalResources), a signer
 * uses the raw target it actually sends.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: HeaderBag, name: string): string {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower && value !== undefined) {
      return (Array.isArray(value) ? value.join(',') : value).trim();
    }
  }
  return '';
}

/** `x-acs-*` headers, lower-cased names sorted, each rendered as `name:value\n`. */
export function canonicalHeaders(headers: HeaderBag): string {
  const acs: [string, string][] = [];
  for (const [key, value] of Object.entries(headers)) {
    const lower = key.toLowerCase();
    if (!lower.startsWith('x-acs-') || value === undefined) continue;
    acs.push([lower, (Array.isArray(value) ? value.join(',') : value).trim()]);
  }
  acs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return acs.map(([k, v]) => `${k}:${v}\n`).join('');
}

/** The date the signature covers: `x-acs-date` when present (Node SDK), else `Date`. */
export function signedDate(headers: HeaderBag): string {
  return header(headers, 'x-acs-date') || header(headers, 'date');
}

export function stringToSign(method: string, resource: string, headers: HeaderBag): string {
  return (
    [
      method.toUpperCase(),
      header(headers, 'accept'),
      header(headers, 'content-md5'),
      header(headers, 'content-type'),
      signedDate(headers),
    ].join('\n') +
    '\n' +
    canonicalHeaders(headers) +
    resource
  );
}

export function computeSignature(secret: string, toSign: string): string {
  return createHmac('sha1', secret).update(toSign, 'utf8').digest('base64');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * The resources a verifier should try for a request target `rawTarget` (path + optional `?query`):
 * the raw target itself, and the decoded path with decoded query parameters sorted by name
 * (bare `name` when the value is empty).
 */
export function canonicalResources(rawTarget: string): string[] {
  const q = rawTarget.indexOf('?');
  const path = q < 0 ? rawTarget : rawTarget.slice(0, q);
  const query = q < 0 ? '' : rawTarget.slice(q + 1);
  const params = query
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0
        ? [safeDecode(part), '']
        : [safeDecode(part.slice(0, eq)), safeDecode(part.slice(eq + 1))];
    }) as [string, string][];
  params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const decoded =
    safeDecode(path) +
    (params.length ? '?' + params.map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join('&') : '');
  return decoded === rawTarget ? [rawTarget] : [rawTarget, decoded];
}

export interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly signature: string;
}

/** Parses `acs <AccessKeyId>:<Signature>`; undefined when malformed. */
export function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const m = /^acs ([^:\s]+):(\S+)$/.exec(value.trim());
  return m ? { accessKeyId: m[1]!, signature: m[2]! } : undefined;
}

/** True when `signature` matches the request under any accepted canonicalisation. */
export function verifySignature(
  secret: string,
  signature: string,
  method: string,
  rawTarget: string,
  headers: HeaderBag,
): boolean {
  const given = Buffer.from(signature);
  return canonicalResources(rawTarget).some((resource) => {
    const expected = Buffer.from(computeSignature(secret, stringToSign(method, resource, headers)));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** Builds the `Authorization` header value for a request (signer side: raw target). */
export function authorizationHeader(
  accessKeyId: string,
  secret: string,
  method: string,
  rawTarget: string,
  headers: HeaderBag,
): string {
  return `acs ${accessKeyId}:${computeSignature(secret, stringToSign(method, rawTarget, headers))}`;
}

/** RFC 1123 date as the Date header wants it: `Mon, 02 Jan 2017 03:04:05 GMT`. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
