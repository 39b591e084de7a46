/**
 * The part every client layer shares: resolved options, the signed transport and the JSON/list
 * helpers. The public surface is split by subject (admin.ts, objects.ts, client.ts) and stacked by
 * inheritance, so that `ShoalClient` keeps one flat method namespace.
 */
import type { WireList } from '@shoal/core';
import {
  resolveShoalClientOptions,
  type ResolvedShoalClientOptions,
  type ShoalClientOptions,
} from './options.js';
import { normalizeList } from './paging.js';
import { Transport, type RequestSpec } from './transport.js';

/**
 * Options and transport of a client; use {@link ShoalClient}.
 *
 * @example new ShoalClient({ endpoint, accessKeyId, accessKeySecret }).options.endpoint
 */
export class ClientBase {
  readonly options: ResolvedShoalClientOptions;
  protected readonly transport: Transport;

  constructor(options: ShoalClientOptions) {
    this.options = resolveShoalClientOptions(options);
    this.transport = new Transport(this.options);
  }

  protected json<T>(spec: RequestSpec): Promise<T> {
    return this.transport.requestJson<T>(spec);
  }

  protected async list<T>(spec: RequestSpec): Promise<WireList<T>> {
    return normalizeList(await this.transport.requestJson<WireList<T> | T[] | undefined>(spec));
  }

  protected async send(spec: RequestSpec): Promise<void> {
    await this.transport.request(spec);
  }
}
