/**
 * Following a live log (`GET .../log?follow=true`). The server keeps the response open until the
 * attempt ends; when the connection breaks first, the stream is resumed at the byte offset reached,
 * so the caller sees every byte once.
 */
import { ShoalApiError } from './errors.js';
import { backoffDelayMs, sleep } from './retry.js';
import type { RequestSpec, Transport } from './transport.js';

/** Options of {@link ShoalClient.followLog}. */
export interface FollowLogOptions {
  /** Byte offset to start at (default 0). */
  offset?: number;
  signal?: AbortSignal;
  /** Reconnections after a broken stream (default 5). */
  reconnects?: number;
}

/** Yields the chunks of a followed log; `open(offset)` describes the request for a given start. */
export async function* followChunks(
  transport: Transport,
  open: (offset: number) => RequestSpec,
  options: FollowLogOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  let offset = options.offset ?? 0;
  const reconnects = options.reconnects ?? 5;
  for (let failures = 0; ;) {
    const response = await transport.open({ ...open(offset), signal: options.signal });
    if (!response.body) return;
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value.byteLength === 0) continue;
        offset += value.byteLength;
        failures = 0;
        yield value;
      }
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (err instanceof ShoalApiError || failures >= reconnects) throw err;
    } finally {
      // Releases the connection when the consumer stops early (break / return from for-await).
      await reader.cancel().catch(() => undefined);
    }
    await sleep(backoffDelayMs(failures, 200, 5_000), options.signal);
    failures++;
  }
}
