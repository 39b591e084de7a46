/**
 * acs signature verification (spec §3.3–3.5). Both canonicalisations of the official clients are accepted;
 * the signed date must be within 15 minutes of the server's clock. A signed `x-acs-signature-nonce` may be
 * used once per key within that window (recorded in the database, so it holds across servers); requests
 * without one (the Node aliyun-sdk sends none) are accepted.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock, Store } from '@shoal/core';
import { parseAuthorization, ShoalError, signedDate, stringToSign, verifySignature } from '@shoal/core';
import type { Caller } from '../services/caller.js';
import { ADMIN_OWNER_ID } from '../credentials.js';
import type { SecretSealer } from '../sealing.js';

export const MAX_SKEW_MS = 15 * 60 * 1000;

export const NONCE_HEADER = 'x-acs-signature-nonce';
const NONCE_MAX_LENGTH = 128;

interface CachedKey {
  readonly secret: string;
  readonly ownerId: number;
  readonly ownerName: string;
  readonly disabled: boolean;
  readonly loadedAtMs: number;
}

/**
 * Looks keys up in the store, caching them (secrets opened) briefly: a key disabled or deleted through any
 * server stops working everywhere within `ttlMs`, and at once on the server that changed it.
 */
export class KeyRing {
  private readonly cache = new Map<string, CachedKey>();

  constructor(
    readonly store: Store,
    private readonly sealer: SecretSealer,
    private readonly ttlMs = 5_000,
  ) {}

  forget(id: string): void {
    this.cache.delete(id);
  }

  async get(id: string): Promise<CachedKey | undefined> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.loadedAtMs < this.ttlMs) return hit;
    const record = await this.store.getAccessKey(id);
    if (!record) {
      this.cache.delete(id);
      return undefined;
    }
    const entry = {
      secret: this.sealer.open(record.id, record.secret),
      ownerId: record.ownerId,
      ownerName: record.ownerName,
      disabled: record.disabled,
      loadedAtMs: now,
    };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, entry);
    return entry;
  }
}

export async function authenticate(
  keys: KeyRing,
  clock: Clock,
  method: string,
  rawTarget: string,
  headers: IncomingHttpHeaders,
): Promise<Caller> {
  const authorization = headers.authorization;
  if (!authorization) {
    throw new ShoalError(
      'MissingAuthorization',
      'The request is not signed: the Authorization header "acs <AccessKeyId>:<Signature>" is missing.',
    );
  }
  const parsed = parseAuthorization(authorization);
  if (!parsed) {
    throw new ShoalError(
      'InvalidAuthorization',
      `The Authorization header must look like "acs <AccessKeyId>:<Signature>", got ${JSON.stringify(authorization.slice(0, 60))}.`,
    );
  }
  const date = signedDate(headers);
  if (!date)
    throw new ShoalError(
      'MissingDate',
      'The request has neither a Date nor an x-acs-date header; one is required and signed.',
    );
  const dateMs = Date.parse(date);
  if (Number.isNaN(dateMs))
    throw new ShoalError('InvalidDate', `The request date ${JSON.stringify(date)} is not an RFC 1123 date.`);
  const skew = Math.abs(clock.nowUs() / 1000 - dateMs);
  if (skew > MAX_SKEW_MS) {
    throw new ShoalError(
      'RequestTimeTooSkewed',
      `The request date ${date} differs from the server's time by ${Math.round(skew / 1000)} s; at most 900 s is allowed.`,
    );
  }
  const key = await keys.get(parsed.accessKeyId);
  if (!key || key.disabled) {
    throw new ShoalError(
      'InvalidAccessKeyId.NotFound',
      `The AccessKeyId ${JSON.stringify(parsed.accessKeyId)} does not exist or is disabled.`,
    );
  }
  if (!verifySignature(key.secret, parsed.signature, method, rawTarget, headers)) {
    throw new ShoalError(
      'SignatureDoesNotMatch',
      // The string to sign is part of the message, as the original service sends it for debugging, on
      // one line with its newlines written as \n so that it can be compared with the client's.
      `The request signature does not match for AccessKeyId ${JSON.stringify(parsed.accessKeyId)}: check its AccessKeySecret and the signing method. String to sign (raw target; newlines shown as \\n): ${stringToSign(method, rawTarget, headers).replace(/\r/g, '\\r').replace(/\n/g, '\\n')}`,
    );
  }
  const nonce = headers[NONCE_HEADER];
  if (nonce !== undefined) {
    const text = Array.isArray(nonce) ? nonce.join(',') : nonce;
    if (text.length === 0 || text.length > NONCE_MAX_LENGTH) {
      throw new ShoalError(
        'InvalidParameter',
        `The ${NONCE_HEADER} header must be 1 to ${NONCE_MAX_LENGTH} characters, got ${text.length}.`,
        NONCE_HEADER,
      );
    }
    // Checked only after the signature verified, so nobody can burn another key's nonces. The nonce is
    // kept as long as a request signed with this date could still be accepted.
    const nowMs = clock.nowUs() / 1000;
    const untilMs = Math.max(nowMs, dateMs) + MAX_SKEW_MS;
    if (
      !(await keys.store.useNonce(
        parsed.accessKeyId,
        text,
        Math.round(nowMs * 1000),
        Math.round(untilMs * 1000),
      ))
    ) {
      throw new ShoalError(
        'SignatureNonceUsed',
        `The signature nonce ${JSON.stringify(text.slice(0, 40))} was already used with this AccessKeyId; sign each request with a new nonce.`,
      );
    }
  }
  return {
    accessKeyId: parsed.accessKeyId,
    ownerId: key.ownerId,
    name: key.ownerName,
    admin: key.ownerId === ADMIN_OWNER_ID,
  };
}
