/**
 * The admin access key. Created on first start and written to `<data-dir>/credentials.json` (mode 0600)
 * so the CLI on the same machine finds it; the Endpoint field is rewritten at every start. In the database
 * every secret is sealed (see sealing.ts); plaintext rows of older versions are sealed at start.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Store } from '@shoal/core';
import { SecretSealer } from './sealing.js';

export const ADMIN_OWNER_ID = 1;
export const ADMIN_NAME = 'admin';

export interface Credentials {
  AccessKeyId: string;
  AccessKeySecret: string;
  Endpoint: string;
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function randomToken(length: number, alphabet: string): string {
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
  return {
    AccessKeyId: parsed.AccessKeyId,
    AccessKeySecret: parsed.AccessKeySecret,
    Endpoint: String(parsed.Endpoint ?? ''),
  };
}

function writeCredentials(path: string, credentials: Credentials): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** A new access key id and secret. */
export function newAccessKey(): { AccessKeyId: string; AccessKeySecret: string } {
  return {
    AccessKeyId: `SHOAL${randomToken(15, ALPHANUM)}`,
    AccessKeySecret: randomBytes(24).toString('base64url'),
  };
}

/** Seals every secret still stored in plaintext (rows written before secrets were sealed). Returns how many. */
export async function sealPlaintextSecrets(
  store: Store,
  sealer: SecretSealer,
  clock: Clock,
): Promise<number> {
  let sealed = 0;
  for (const info of await store.listAccessKeys()) {
    const key = await store.getAccessKey(info.id);
    if (!key || SecretSealer.isSealed(key.secret)) continue;
    await store.putAccessKey(
      { id: key.id, secret: sealer.seal(key.id, key.secret), ownerId: key.ownerId, disabled: key.disabled },
      clock.nowUs(),
    );
    sealed++;
  }
  return sealed;
}

/** Loads the admin key (registering it in the store when the database is new) or creates one. */
export async function ensureAdminCredentials(
  dataDir: string,
  store: Store,
  sealer: SecretSealer,
  clock: Clock,
): Promise<Credentials> {
  const path = credentialsPath(dataDir);
  const existing = readCredentials(path);
  if (existing) {
    const known = await store.getAccessKey(existing.AccessKeyId);
    if (!known) {
      const secret = sealer.seal(existing.AccessKeyId, existing.AccessKeySecret);
      await store.putAccessKey(
        { id: existing.AccessKeyId, secret, ownerId: ADMIN_OWNER_ID, disabled: false },
        clock.nowUs(),
      );
    } else if (sealer.open(known.id, known.secret) !== existing.AccessKeySecret) {
      // Fails fast (also on a wrong master key, which open() reports) instead of refusing every request.
      throw new Error(`${path} does not match the access key ${existing.AccessKeyId} stored in the database`);
    }
    return existing;
  }
  const created: Credentials = { ...newAccessKey(), Endpoint: '' };
  const secret = sealer.seal(created.AccessKeyId, created.AccessKeySecret);
  await store.putAccessKey(
    { id: created.AccessKeyId, secret, ownerId: ADMIN_OWNER_ID, disabled: false },
    clock.nowUs(),
  );
  writeCredentials(path, created);
  return created;
}

export function publishEndpoint(dataDir: string, credentials: Credentials, endpoint: string): Credentials {
  const updated = { ...credentials, Endpoint: endpoint };
  writeCredentials(credentialsPath(dataDir), updated);
  return updated;
}
