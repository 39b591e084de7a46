/**
 * HMAC-SHA1 through WebCrypto (`globalThis.crypto.subtle`, present in Node 20 and every browser),
 * so the SDK signs without node:crypto or Buffer. Imported keys are cached per secret because
 * importKey costs more than the signature itself.
 */

/**
 * Base64 of bytes without Buffer.
 *
 * @example toBase64(new Uint8Array([104, 105])) // 'aGk='
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

type Subtle = (typeof globalThis.crypto)['subtle'];
type HmacKey = Awaited<ReturnType<Subtle['importKey']>>;

/**
 * Signs with HMAC-SHA1 keys imported once per secret.
 *
 * @example
 * const signer = new HmacSha1();
 * await signer.sign('testSK', 'text'); // base64 signature
 */
export class HmacSha1 {
  private readonly keys = new Map<string, Promise<HmacKey>>();

  /**
   * base64(HMAC-SHA1(secret, text)), both UTF-8 encoded.
   *
   * @example await new HmacSha1().sign('key', 'The quick brown fox jumps over the lazy dog') // '3nybhbi3iqa8ino29wqQcBydtNk='
   */
  async sign(secret: string, text: string): Promise<string> {
    const subtle = globalThis.crypto?.subtle;
    if (!subtle)
      throw new Error(
        'WebCrypto (crypto.subtle) is not available: use a secure context (https or localhost)',
      );
    let key = this.keys.get(secret);
    if (!key) {
      key = subtle.importKey(
        'raw',
        new TextEncoder().encode(secret),
        { name: 'HMAC', hash: 'SHA-1' },
        false,
        ['sign'],
      );
      this.keys.set(secret, key);
    }
    const mac = await subtle.sign('HMAC', await key, new TextEncoder().encode(text));
    return toBase64(new Uint8Array(mac));
  }
}
