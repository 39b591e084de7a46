/**
 * The admin access key. Created on first start and written to `<data-dir>/credentials.json` (mode 0600)
 * so the CLI on the same machine finds it; the Endpoint field is rewritten at every start.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Store } from '@shoal/core';

export const ADMIN_OWNER_ID = 1;

export interface Credentials {
  AccessKeyId: string;
  AccessKeySecret: string;
  Endpoint: string;
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomToken(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

export function credentialsPath(dataDir: string): string {
  return join(dataDir, 'credentials.json');
}

function readCredentials(path: string): Credentials | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Credentials>;
  if (typeof parsed.AccessKeyId !== 'string' || typeof parsed.AccessKeySecret !== 'string') {
    throw new Error(`${path} is not a credentials file: AccessKeyId and AccessKeySecret are required`);
  }
  return { AccessKeyId: parsed.AccessKeyId, AccessKeySecret: parsed.AccessKeySecret, Endpoint: String(parsed.Endpoint ?? '') };
}

function writeCredentials(path: string, credentials: Credentials): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Loads the admin key (registering it in the store when the database is new) or creates one. */
export async function ensureAdminCredentials(dataDir: string, store: Store, clock: Clock): Promise<Credentials> {
  const path = credentialsPath(dataDir);
  const existing = readCredentials(path);
  if (existing) {
    const known = await store.getAccessKey(existing.AccessKeyId);
    if (!known) {
      await store.putAccessKey({ id: existing.AccessKeyId, secret: existing.AccessKeySecret, ownerId: ADMIN_OWNER_ID, disabled: false }, clock.nowUs());
    }
    return existing;
  }
  const created: Credentials = {
    AccessKeyId: `SHOAL${randomToken(15, ALPHANUM)}`,
    AccessKeySecret: randomBytes(24).toString('base64url'),
    Endpoint: '',
  };
  await store.putAccessKey({ id: created.AccessKeyId, secret: created.AccessKeySecret, ownerId: ADMIN_OWNER_ID, disabled: false }, clock.nowUs());
  writeCredentials(path, created);
  return created;
}

export function publishEndpoint(dataDir: string, credentials: Credentials, endpoint: string): Credentials {
  const updated = { ...credentials, Endpoint: endpoint };
  writeCredentials(credentialsPath(dataDir), updated);
  return updated;
}
