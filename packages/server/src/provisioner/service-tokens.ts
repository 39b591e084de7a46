/**
 * Worker tokens the server mints for the workers it starts itself (local agents, Slurm array elements):
 * one per cluster per server run, owned by the service. Tokens of a previous run are of no use once the
 * server restarted (it kept only their hash), so they are deleted when the first new one is made.
 */
import type { Store } from '@shoal/core';
import { SERVICE_OWNER_ID, systemClock } from '@shoal/core';
import { mintWorkerToken } from '../api/worker-auth.js';

export class ServiceTokens {
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(private readonly store: Store) {}

  /** The token of a cluster; made once per server run. */
  of(clusterId: string): Promise<string> {
    let token = this.tokens.get(clusterId);
    if (!token) {
      token = this.mint(clusterId);
      token.catch(() => this.tokens.delete(clusterId));
      this.tokens.set(clusterId, token);
    }
    return token;
  }

  private async mint(clusterId: string): Promise<string> {
    for (const old of await this.store.listWorkerTokens(clusterId))
      if (old.ownerId === SERVICE_OWNER_ID) await this.store.deleteWorkerToken(old.id);
    const minted = mintWorkerToken();
    await this.store.createWorkerToken({
      id: minted.id,
      clusterId,
      ownerId: SERVICE_OWNER_ID,
      secretHash: minted.secretHash,
      createdAtUs: systemClock.nowUs(),
    });
    return minted.token;
  }
}
