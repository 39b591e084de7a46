/**
 * Request bodies arrive as raw streams (the official Node client labels JSON `text/plain`, the Python one
 * sends `application/json` even on GET), so the API parses them itself: one limit, one error shape, and
 * the exact bytes available for Content-MD5 checks.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ShoalError } from '@shoal/core';

export const JSON_BODY_LIMIT = 16 * 1024 * 1024;

export async function readRaw(stream: unknown, limit = JSON_BODY_LIMIT): Promise<Buffer> {
  if (stream === undefined || stream === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(stream)) return stream;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as Readable) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > limit)
      throw new ShoalError('RequestEntityTooLarge', `The request body exceeds ${limit} bytes.`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Checks a Content-MD5 header (base64, or hex as some documents describe it) against the body. */
export function checkContentMd5(header: string | undefined, body: Buffer): void {
  if (!header) return;
  const digest = createHash('md5').update(body);
  const copy = digest.copy();
  const base64 = digest.digest('base64');
  const hex = copy.digest('hex');
  if (header.trim() !== base64 && header.trim().toLowerCase() !== hex) {
    throw new ShoalError(
      'InvalidContentMD5',
      `The Content-MD5 header ${JSON.stringify(header)} does not match the body (MD5 ${base64}).`,
    );
  }
}

export async function readJson(stream: unknown, contentMd5: string | undefined): Promise<unknown> {
  const raw = await readRaw(stream);
  checkContentMd5(contentMd5, raw);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ShoalError('MalformedJSON', `The request body is not valid JSON: ${(err as Error).message}.`);
  }
}
