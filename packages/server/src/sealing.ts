/**
 * Access-key secrets at rest: the server must recompute HMACs, so secrets are encrypted (AES-256-GCM),
 * not hashed. The master key lives in `<data-dir>/master.key` (32 random bytes, mode 0600) unless one is
 * given; servers sharing a database must share it. The key id is the associated data, so a sealed secret
 * cannot be moved to another key's row.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = 'aesgcm1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function masterKeyPath(dataDir: string): string {
  return join(dataDir, 'master.key');
}

/** Parses a master key given as 64 hex digits or base64 of 32 bytes. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (bytes.length !== KEY_BYTES)
    throw new TypeError(
      `the master key must be 32 bytes (64 hex digits or base64), got ${bytes.length} bytes`,
    );
  return bytes;
}

/** Reads `<data-dir>/master.key`, creating it on first start. */
export function loadOrCreateMasterKey(dataDir: string): Buffer {
  const path = masterKeyPath(dataDir);
  try {
    writeFileSync(path, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Tightened on every start: a key readable by others would expose every secret in the database.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const key = readFileSync(path);
  if (key.length !== KEY_BYTES)
    throw new Error(`${path} must hold exactly ${KEY_BYTES} bytes, found ${key.length}`);
  return key;
}

export class SecretSealer {
  readonly #key: Buffer;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== KEY_BYTES) throw new TypeError(`the master key must be ${KEY_BYTES} bytes`);
    this.#key = Buffer.from(masterKey);
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  seal(keyId: string, secret: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(keyId, 'utf8'));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The secret of a stored value; plaintext (rows from before sealing) passes through unchanged. */
  open(keyId: string, stored: string): string {
    if (!SecretSealer.isSealed(stored)) return stored;
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new Error(
        `cannot open the secret of access key ${keyId}: the master key is not the one that sealed it`,
      );
    }
  }
}
