/**
 * A throwaway node:http server for the client tests: it checks every request's signature with core's
 * verifier (the code the Shoal server uses) and hands the request to the test's handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAuthorization, verifySignature } from '@shoal/core';
import { ShoalClient, type ShoalClientOptions } from '../src/index.js';

export const AK = 'test-ak';
export const SK = 'test-secret';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: Seen, res: ServerResponse) => void | Promise<void>;

export async function serve(
  handler: Handler,
): Promise<{ endpoint: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const entry: Seen = {
      method: req.method!,
      url: req.url!,
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    seen.push(entry);
    const auth = parseAuthorization(String(req.headers.authorization ?? ''));
    if (
      !auth ||
      auth.accessKeyId !== AK ||
      !verifySignature(SK, auth.signature, entry.method, entry.url, req.headers)
    ) {
      res.writeHead(403, { 'content-type': 'application/json', 'x-acs-request-id': 'sig-req' });
      res.end(
        JSON.stringify({ Code: 'SignatureDoesNotMatch', Message: 'bad signature', RequestId: 'sig-req' }),
      );
      return;
    }
    await handler(entry, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-acs-request-id': 'req-1' });
  res.end(JSON.stringify(body));
}

export function client(endpoint: string, extra: Partial<ShoalClientOptions> = {}): ShoalClient {
  return new ShoalClient({ endpoint, accessKeyId: AK, accessKeySecret: SK, retryBaseDelayMs: 5, ...extra });
}
