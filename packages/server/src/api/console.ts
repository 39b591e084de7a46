/**
 * The web console (packages/console, built by `npm ci`): its files under /console/, without credentials
 * (the page signs in with an access key, and every API call it makes is signed like any other client's).
 * Hashed assets are cached for good; index.html never, so a new build is picked up at once.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const CONSOLE_PREFIX = '/console';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);
}

/** Where the built console is, or undefined when it was not built (the route then says how to build it). */
export function consoleDistDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@shoal/console/package.json');
    const dist = join(dirname(pkg), 'dist');
    return existsSync(join(dist, 'index.html')) ? dist : undefined;
  } catch {
    return undefined;
  }
}

export function registerConsoleRoutes(app: FastifyInstance, dist = consoleDistDir()): void {
  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!dist) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send(
          'The console is not built: run `npm run build` (npm ci builds it too) and restart the server.\n',
        );
    }
    const wanted = (request.params as { '*'?: string })['*'] || 'index.html';
    // Only files of the build: no path leaves it, whatever the URL says.
    const file = normalize(join(dist, wanted));
    const inside = file.startsWith(dist + sep) && existsSync(file);
    // A missing asset is a 404 (a stale page asking for an old build's file); any other path is the page.
    if (!inside && wanted.startsWith('assets/'))
      return reply.status(404).type('text/plain; charset=utf-8').send(`No such console file: ${wanted}\n`);
    const path = inside ? file : join(dist, 'index.html');
    const isIndex = path === join(dist, 'index.html');
    return reply
      .type(TYPES[extname(path)] ?? 'application/octet-stream')
      .header('cache-control', isIndex ? 'no-cache' : 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(await readFile(path));
  };
  // ignoreTrailingSlash: this serves /console/ too.
  app.get(CONSOLE_PREFIX, serve);
  app.get(`${CONSOLE_PREFIX}/*`, serve);
}
