/**
 * Shoal addition: objects through the server, so clients (the CLI's `-p` packages, `bcs oss`) never need the
 * object store's own credentials. `oss://bucket/key` is `/objects/bucket/key`. Every route checks the
 * bucket's owner first (services/object-access.ts); presigned URLs are handed out by the S3 backend only.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import type { ObjectUri } from '@shoal/core';
import {
  formatTime,
  invalidParameter,
  notFound,
  objectPrefixProblem,
  objectUriProblem,
  ShoalError,
} from '@shoal/core';
import type { ApiContext } from '../context.js';
import { callerOf } from '../context.js';
import { maxItemCount, one, type Query } from '../query.js';
import { presignObject } from './presign.js';

type ObjectParams = { bucket: string; '*': string };

function uriOf(bucket: string, key: string, allowPrefix: boolean): ObjectUri {
  const text = `oss://${bucket}/${key}`;
  // A listing prefix may end in a partial name such as '.' (for .hidden); an object key may not.
  const problem = allowPrefix ? objectPrefixProblem(text) : objectUriProblem(text);
  if (problem) throw invalidParameter(allowPrefix ? 'Prefix' : 'ObjectKey', text, problem);
  if (!allowPrefix && (key === '' || key.endsWith('/')))
    throw invalidParameter('ObjectKey', text, 'must name an object, not a prefix');
  return { scheme: 'oss', bucket, key };
}

export function registerObjectRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.put<{ Params: ObjectParams }>('/objects/:bucket/*', async (request, reply) => {
    const uri = uriOf(request.params.bucket, request.params['*'], false);
    await ctx.objects.checkWrite(callerOf(request), uri);
    const expected = request.headers['content-md5'] as string | undefined;
    const body = (request.body as Readable | undefined) ?? Readable.from([]);
    if (!expected) {
      await ctx.blobs.putObject(uri, body);
    } else {
      // With a Content-MD5 the bytes are checked before they replace anything: spool, verify, then store.
      const dir = await mkdtemp(join(tmpdir(), 'shoal-upload-'));
      try {
        const file = join(dir, 'body');
        const md5 = createHash('md5');
        await pipeline(
          body,
          new Transform({
            transform(chunk: Buffer, _encoding, done) {
              md5.update(chunk);
              done(null, chunk);
            },
          }),
          createWriteStream(file),
        );
        const digest = md5.digest();
        if (
          expected.trim() !== digest.toString('base64') &&
          expected.trim().toLowerCase() !== digest.toString('hex')
        ) {
          throw new ShoalError(
            'InvalidContentMD5',
            `The Content-MD5 header ${JSON.stringify(expected)} does not match the uploaded bytes (MD5 ${digest.toString('base64')}); nothing was stored.`,
          );
        }
        await ctx.blobs.uploadFile(file, uri);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    return reply.status(201).send({ Uri: `oss://${uri.bucket}/${uri.key}` });
  });

  app.get<{ Params: ObjectParams }>(
    '/objects/:bucket/*',
    { exposeHeadRoute: false },
    async (request, reply) => {
      const caller = callerOf(request);
      const uri = uriOf(request.params.bucket, request.params['*'], false);
      const query = request.query as Query;
      if (['true', '1', ''].includes(one(query, 'Presign') ?? 'false')) {
        return presignObject(ctx, caller, uri, 'GET', one(query, 'Expires'));
      }
      await ctx.objects.checkRead(caller, uri);
      const info = await ctx.blobs.headObject(uri);
      if (!info) throw notFound('object', `oss://${uri.bucket}/${uri.key}`);
      reply.header('content-length', String(info.size));
      reply.header('last-modified', new Date(info.lastModifiedMs).toUTCString());
      reply.type('application/octet-stream');
      return reply.send(await ctx.blobs.getObject(uri));
    },
  );

  app.head<{ Params: ObjectParams }>('/objects/:bucket/*', async (request, reply) => {
    const uri = uriOf(request.params.bucket, request.params['*'], false);
    await ctx.objects.checkRead(callerOf(request), uri);
    const info = await ctx.blobs.headObject(uri);
    if (!info) throw notFound('object', `oss://${uri.bucket}/${uri.key}`);
    reply.header('content-length', String(info.size));
    reply.header('last-modified', new Date(info.lastModifiedMs).toUTCString());
    return reply.status(200).send();
  });

  app.delete<{ Params: ObjectParams }>('/objects/:bucket/*', async (request, reply) => {
    const uri = uriOf(request.params.bucket, request.params['*'], false);
    await ctx.objects.checkRead(callerOf(request), uri);
    await ctx.blobs.deleteObject(uri);
    return reply.status(204).send();
  });

  /** `POST /objects/{bucket}/{key}?presign&Method=GET|PUT&Expires=S` */
  app.post<{ Params: ObjectParams }>('/objects/:bucket/*', async (request) => {
    const query = request.query as Query;
    if (!('presign' in query) && !('Presign' in query))
      throw invalidParameter('presign', undefined, 'POST on an object is only ?presign');
    const method = (one(query, 'Method') ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'PUT') throw invalidParameter('Method', method, 'must be GET or PUT');
    const uri = uriOf(request.params.bucket, request.params['*'], false);
    return presignObject(ctx, callerOf(request), uri, method, one(query, 'Expires'));
  });

  app.get<{ Params: { bucket: string } }>('/objects/:bucket', async (request) => {
    const query = request.query as Query;
    const prefix = one(query, 'Prefix') ?? '';
    const uri = uriOf(request.params.bucket, prefix, true);
    await ctx.objects.checkRead(callerOf(request), { ...uri, key: '' });
    const limit = maxItemCount(query, 1000, 1000);
    const delimiter = one(query, 'Delimiter');
    const marker = one(query, 'Marker');
    const page = await ctx.blobs.listObjects(uri, {
      ...(delimiter ? { delimiter } : {}),
      ...(marker ? { marker } : {}),
      limit,
    });
    return {
      NextMarker: page.nextMarker ?? '',
      Items: page.objects.map((o) => ({
        Key: o.key,
        Size: o.size,
        LastModified: formatTime(o.lastModifiedMs * 1000),
      })),
      Prefixes: page.prefixes,
    };
  });
}
