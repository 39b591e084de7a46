/**
 * Worker tokens: how agents authenticate (`Authorization: Bearer wt-….<secret>`). A token is bound to one
 * cluster and reaches only the worker routes under that cluster (`/clusters/{id}/workers/...`); user keys
 * never reach worker routes and tokens never reach user routes. The store keeps a SHA-256 of the secret:
 * a stolen database yields no working token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '@shoal/core';
import { ShoalError } from '@shoal/core';

export interface WorkerCaller {
  readonly tokenId: string;
  readonly clusterId: string;
}

const TOKEN = /^(wt-[0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
/** Worker routes: everything under /clusters/{id}/workers. */
const WORKER_ROUTE = /^\/clusters\/[^/?#]+\/workers(?:[/?#]|$)/;

export function isWorkerRoute(path: string): boolean {
  return WORKER_ROUTE.test(path);
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new token: its id, the token text (shown once) and the hash to store. */
export function mintWorkerToken(): { id: string; token: string; secretHash: string } {
  const id = `wt-${randomBytes(8).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${id}.${secret}`, secretHash: hashSecret(secret) };
}

interface CachedToken {
  readonly clusterId: string;
  readonly secretHash: string;
  readonly loadedAtMs: number;
}

/** Token lookups, cached briefly: a deleted token stops working everywhere within `ttlMs`. */
export class WorkerTokens {
  private readonly cache = new Map<string, CachedToken>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 5_000,
  ) {}

  forget(id: string): void {
    this.cache.delete(id);
  }

  async authenticate(authorization: string | undefined): Promise<WorkerCaller> {
    const match = authorization ? /^Bearer (.+)$/.exec(authorization) : null;
    if (!match)
      throw new ShoalError(
        'MissingAuthorization',
        'Worker routes take a worker token: the header "Authorization: Bearer wt-…" is missing.',
      );
    const parts = TOKEN.exec(match[1]!.trim());
    if (!parts) throw new ShoalError('InvalidAuthorization', 'The worker token is malformed.');
    const [, id, secret] = parts as unknown as [string, string, string];
    const now = Date.now();
    let entry = this.cache.get(id);
    if (!entry || now - entry.loadedAtMs >= this.ttlMs) {
      const record = await this.store.getWorkerToken(id);
      if (!record) {
        this.cache.delete(id);
        throw new ShoalError('InvalidAccessKeyId.NotFound', `The worker token ${id} does not exist.`);
      }
      entry = { clusterId: record.clusterId, secretHash: record.secretHash, loadedAtMs: now };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(id, entry);
    }
    const given = Buffer.from(hashSecret(secret), 'hex');
    const stored = Buffer.from(entry.secretHash, 'hex');
    if (given.length !== stored.length || !timingSafeEqual(given, stored))
      throw new ShoalError('SignatureDoesNotMatch', `The secret of worker token ${id} does not match.`);
    return { tokenId: id, clusterId: entry.clusterId };
  }
}
