/**
 * The StringToSign of the acs scheme (spec §3.3), in a browser-safe copy: core has the same pure
 * functions, but importing `@shoal/core` pulls node:crypto in through its index. A test checks that
 * both build identical strings for many requests (test/signing.test.ts).
 */

/** Request headers as a signer or verifier holds them. */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

function render(value: string | readonly string[]): string {
  return (typeof value === 'string' ? value : value.join(',')).trim();
}

function header(headers: HeaderMap, name: string): string {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined) return render(value);
  }
  return '';
}

/**
 * The `x-acs-*` headers, lower-cased and sorted by name, one `name:value\n` each.
 *
 * @example canonicalAcsHeaders({ 'x-acs-version': '2015-11-11', Date: 'x' }) // 'x-acs-version:2015-11-11\n'
 */
export function canonicalAcsHeaders(headers: HeaderMap): string {
  const acs: [string, string][] = [];
  for (const [key, value] of Object.entries(headers)) {
    const lower = key.toLowerCase();
    if (lower.startsWith('x-acs-') && value !== undefined) acs.push([lower, render(value)]);
  }
  acs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return acs.map(([k, v]) => `${k}:${v}\n`).join('');
}

/**
 * VERB, Accept, Content-MD5, Content-Type and date lines, the `x-acs-*` headers, then the resource
 * (for a signer: the exact request target sent). The date is `x-acs-date` when present, else `Date`.
 *
 * @example
 * buildStringToSign('GET', '/jobs', { Accept: 'application/json', Date: 'Mon, 02 Jan 2017 03:04:05 GMT' });
 * // 'GET\napplication/json\n\n\nMon, 02 Jan 2017 03:04:05 GMT\n/jobs'
 */
export function buildStringToSign(method: string, resource: string, headers: HeaderMap): string {
  const date = header(headers, 'x-acs-date') || header(headers, 'date');
  const lines = [
    method.toUpperCase(),
    header(headers, 'accept'),
    header(headers, 'content-md5'),
    header(headers, 'content-type'),
    date,
  ];
  return `${lines.join('\n')}\n${canonicalAcsHeaders(headers)}${resource}`;
}

/**
 * RFC 1123 date as the `Date` header wants it.
 *
 * @example httpDateOf(Date.UTC(2017, 0, 2, 3, 4, 5)) // 'Mon, 02 Jan 2017 03:04:05 GMT'
 */
export function httpDateOf(ms: number): string {
  return new Date(ms).toUTCString();
}
