/**
 * Presigned object URLs: with the S3 backend a client (or a remote agent) gets a short-lived URL and moves
 * the bytes without the server in the path and without the object store's credentials.
 */
import type { BlobStore, ObjectUri } from '@shoal/core';
import { invalidParameter, ShoalError } from '@shoal/core';
import type { ApiContext } from '../context.js';
import type { Caller } from '../../services/caller.js';

export const PRESIGN_DEFAULT_SEC = 300;
export const PRESIGN_MAX_SEC = 7 * 24 * 3600;

interface Presigning {
  presignGetUrl(uri: ObjectUri, expiresSec: number): Promise<string>;
  presignPutUrl(uri: ObjectUri, expiresSec: number): Promise<string>;
}

function canPresign(blobs: BlobStore): blobs is BlobStore & Presigning {
  const b = blobs as Partial<Presigning>;
  return typeof b.presignGetUrl === 'function' && typeof b.presignPutUrl === 'function';
}

export async function presignObject(
  ctx: ApiContext,
  caller: Caller,
  uri: ObjectUri,
  method: 'GET' | 'PUT',
  expiresText: string | undefined,
): Promise<{ Url: string; Method: string; Expires: number }> {
  const text = expiresText ?? String(PRESIGN_DEFAULT_SEC);
  const expires = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(expires >= 1 && expires <= PRESIGN_MAX_SEC))
    throw invalidParameter('Expires', text, `must be seconds in [1, ${PRESIGN_MAX_SEC}]`);
  // Ownership first, so an answer never tells whether another user's bucket exists.
  if (method === 'PUT') await ctx.objects.checkWrite(caller, uri);
  else await ctx.objects.checkRead(caller, uri);
  if (!canPresign(ctx.blobs)) {
    throw new ShoalError(
      'UnsupportedOperation',
      'local backend: use GET/PUT /objects directly; presigned URLs need the S3 object store.',
    );
  }
  const url =
    method === 'PUT'
      ? await ctx.blobs.presignPutUrl(uri, expires)
      : await ctx.blobs.presignGetUrl(uri, expires);
  return { Url: url, Method: method, Expires: expires };
}
