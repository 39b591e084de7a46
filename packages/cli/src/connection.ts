/**
 * Where the CLI finds its server and keys, field by field: flags, else SHOAL_* environment variables,
 * else the `credentials.json` of an explicitly named data directory, else what `shoal login` saved
 * (config.json), else `./.shoal/credentials.json` (a server started here).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ShoalClient } from '@shoal/sdk';
import { configDir, loadConfig } from './config.js';
import { CliError, type CliContext } from './context.js';

export interface ConnectionFlags {
  endpoint?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  dataDir?: string;
}

export interface Connection {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** The data directory in use (explicit, or the one credentials came from); undefined otherwise. */
  dataDir: string | undefined;
}

export const DEFAULT_DATA_DIR = '.shoal';

/** The data directory the flags/env name, or `./.shoal`; `explicit` says whether one was named. */
export function dataDirOf(flags: ConnectionFlags, ctx: CliContext): { path: string; explicit: boolean } {
  const named = flags.dataDir ?? ctx.env['SHOAL_DATA_DIR'];
  return { path: resolve(ctx.cwd, named ?? DEFAULT_DATA_DIR), explicit: named !== undefined && named !== '' };
}

interface CredentialsFile {
  AccessKeyId?: unknown;
  AccessKeySecret?: unknown;
  Endpoint?: unknown;
}

async function readCredentials(dir: string): Promise<CredentialsFile | undefined> {
  const file = join(dir, 'credentials.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as CredentialsFile;
  } catch {
    throw new CliError(`${file} is not valid JSON`);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Resolves the connection, field by field: flag > environment > named data dir > login > ./.shoal. */
export async function resolveConnection(flags: ConnectionFlags, ctx: CliContext): Promise<Connection> {
  let endpoint = flags.endpoint ?? str(ctx.env['SHOAL_ENDPOINT']);
  let accessKeyId = flags.accessKeyId ?? str(ctx.env['SHOAL_ACCESS_KEY_ID']);
  let accessKeySecret = flags.accessKeySecret ?? str(ctx.env['SHOAL_ACCESS_KEY_SECRET']);
  const dataDir = dataDirOf(flags, ctx);
  let usedDir = dataDir.explicit ? dataDir.path : undefined;
  const fromConfig = async (): Promise<void> => {
    const config = await loadConfig(ctx);
    endpoint ??= config.Endpoint;
    accessKeyId ??= config.AccessKeyId;
    accessKeySecret ??= config.AccessKeySecret;
  };
  const fromCredentials = async (): Promise<void> => {
    const creds = await readCredentials(dataDir.path);
    if (!creds) return;
    endpoint ??= str(creds.Endpoint);
    accessKeyId ??= str(creds.AccessKeyId);
    accessKeySecret ??= str(creds.AccessKeySecret);
    usedDir = dataDir.path;
  };
  // A named data directory beats the saved login; the default ./.shoal only fills what is left.
  for (const source of dataDir.explicit ? [fromCredentials, fromConfig] : [fromConfig, fromCredentials]) {
    if (endpoint && accessKeyId && accessKeySecret) break;
    await source();
  }
  if (!endpoint || !accessKeyId || !accessKeySecret) {
    const missing = [
      !endpoint && 'endpoint',
      !accessKeyId && 'access key id',
      !accessKeySecret && 'access key secret',
    ];
    throw new CliError(
      `no Shoal connection (missing ${missing.filter(Boolean).join(', ')}). Pass --endpoint, --access-key-id ` +
        `and --access-key-secret, set SHOAL_ENDPOINT, SHOAL_ACCESS_KEY_ID and SHOAL_ACCESS_KEY_SECRET, or point ` +
        `--data-dir / SHOAL_DATA_DIR at a server's data directory, or run "shoal login <endpoint> <id> <secret>" (looked for ${join(dataDir.path, 'credentials.json')})`,
    );
  }
  return { endpoint, accessKeyId, accessKeySecret, dataDir: usedDir };
}

/** Adds the connection flags to a command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--endpoint <url>', 'server URL (env SHOAL_ENDPOINT)')
    .option('--access-key-id <id>', 'access key id (env SHOAL_ACCESS_KEY_ID)')
    .option('--access-key-secret <secret>', 'access key secret (env SHOAL_ACCESS_KEY_SECRET)')
    .option(
      '--data-dir <dir>',
      'server data directory holding credentials.json (env SHOAL_DATA_DIR, default ./.shoal)',
    );
}

/** A connected client plus where the result cache lives. */
export interface Session {
  client: ShoalClient;
  connection: Connection;
  cacheFile: string;
}

/** Connects with the command's flags; the cache goes beside the credentials, else under ~/.shoal. */
export async function openSession(flags: ConnectionFlags, ctx: CliContext): Promise<Session> {
  const connection = await resolveConnection(flags, ctx);
  let client: ShoalClient;
  try {
    client = new ShoalClient({
      endpoint: connection.endpoint,
      accessKeyId: connection.accessKeyId,
      accessKeySecret: connection.accessKeySecret,
      // A person is waiting: say at once that nothing listens rather than retrying for seconds.
      retryRefusedConnections: false,
    });
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  const cacheDir = connection.dataDir ?? configDir(ctx);
  return { client, connection, cacheFile: join(cacheDir, 'cache.json') };
}
