/**
 * Before anything is opened: is the port free? If not, say who holds it, because the fix differs: a Shoal
 * server already running on this data dir is simply up (use it), another Shoal or another program needs
 * another --port.
 */
import { createServer } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A start-up problem the operator can fix; its message says how. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

function bindable(port: number, host: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

/** True when an HTTP server at `url` answers with the BatchCompute error shape that Shoal sends. */
async function answersLikeShoal(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/available`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as Record<string, unknown>;
    return response.headers.has('x-acs-request-id') && typeof body === 'object' && body !== null;
  } catch {
    return false;
  }
}

function publishedEndpoint(dataDir: string): string | undefined {
  const file = join(dataDir, 'credentials.json');
  if (!existsSync(file)) return undefined;
  try {
    const endpoint = (JSON.parse(readFileSync(file, 'utf8')) as { Endpoint?: unknown }).Endpoint;
    return typeof endpoint === 'string' && endpoint !== '' ? endpoint : undefined;
  } catch {
    return undefined;
  }
}

/** Throws a StartupError that says what to do when `port` on `host` cannot be bound (port 0 always can). */
export async function checkPortFree(port: number, host: string, dataDir: string): Promise<void> {
  if (port === 0) return;
  const err = await bindable(port, host);
  if (!err) return;
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${port}`;
  if (err.code === 'EACCES')
    throw new StartupError(
      `cannot listen on ${shown}:${port}: permission denied; choose a port above 1023 with --port`,
    );
  if (err.code !== 'EADDRINUSE') throw new StartupError(`cannot listen on ${shown}:${port}: ${err.message}`);
  if (await answersLikeShoal(url)) {
    if (publishedEndpoint(dataDir) === url)
      throw new StartupError(
        `Shoal is already running on this data dir (${dataDir}) at ${url}: use it (e.g. "shoal info"), ` +
          `or stop that server first to start it again`,
      );
    throw new StartupError(
      `another Shoal server (with another data dir) already listens on ${shown}:${port}: ` +
        `choose another port with --port (0 picks a free one)`,
    );
  }
  throw new StartupError(
    `port ${port} on ${shown} is in use by another program: choose another with --port (0 picks a free one)`,
  );
}
