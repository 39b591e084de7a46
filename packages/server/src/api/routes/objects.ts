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
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BlobStore, ObjectUri } from '@shoal/core';
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

/** Who may read and write which object: the bucket's owner for users, the held attempts for workers. */
export interface ObjectGuard {
  read(request: FastifyRequest, uri: ObjectUri): Promise<void>;
  write(request: FastifyRequest, uri: ObjectUri): Promise<void>;
  /** Listing under a prefix. */
  list(request: FastifyRequest, prefix: ObjectUri): Promise<void>;
  /** A GET that the guard answers itself (users' presign requests), or undefined to serve the object. */
  answerGet?(request: FastifyRequest, uri: ObjectUri): Promise<unknown>;
}

/**
 * PUT, GET and HEAD of objects and the listing of a bucket under `base` (`/objects` for users, a
 * worker's path for agents): one implementation of the byte paths, whoever asks.
 */
export function registerObjectIo(
  app: FastifyInstance,
  blobs: BlobStore,
  base: string,
  guard: ObjectGuard,
): void {
  type Params = ObjectParams & Record<string, string>;
  app.put<{ Params: Params }>(`${base}/:bucket/*`, async (request, reply) => {
    const uri = uriOf(request.params.bucket, request.params['*'], false);
    await guard.write(request, uri);
    await storeUpload(
      blobs,
      uri,
      request.body as Readable | undefined,
      request.headers['content-md5'] as string | undefined,
    );
    return reply.status(201).send({ Uri: `oss://${uri.bucket}/${uri.key}` });
  });

  app.get<{ Params: Params }>(`${base}/:bucket/*`, { exposeHeadRoute: false }, async (request, reply) => {
    const uri = uriOf(request.params.bucket, request.params['*'], false);
    const answer = await guard.answerGet?.(request, uri);
    if (answer !== undefined) return answer;
    await guard.read(request, uri);
    await headers(blobs, uri, reply);
    reply.type('application/octet-stream');
    return reply.send(await blobs.getObject(uri));
  });

  app.head<{ Params: Params }>(`${base}/:bucket/*`, async (request, reply) => {
    const uri = uriOf(request.params.bucket, request.params['*'], false);
    await guard.read(request, uri);
    await headers(blobs, uri, reply);
    return reply.status(200).send();
  });

  app.get<{ Params: Params }>(`${base}/:bucket`, async (request) => {
    const query = request.query as Query;
    const prefix = one(query, 'Prefix') ?? '';
    const uri = uriOf(request.params.bucket, prefix, true);
    await guard.list(request, uri);
    const limit = maxItemCount(query, 1000, 1000);
    const delimiter = one(query, 'Delimiter');
    const marker = one(query, 'Marker');
    const page = await blobs.listObjects(uri, {
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

async function headers(blobs: BlobStore, uri: ObjectUri, reply: FastifyReply): Promise<void> {
  const info = await blobs.headObject(uri);
  if (!info) throw notFound('object', `oss://${uri.bucket}/${uri.key}`);
  reply.header('content-length', String(info.size));
  reply.header('last-modified', new Date(info.lastModifiedMs).toUTCString());
}

/** Stores an upload; with a Content-MD5 the bytes are checked before they replace anything. */
async function storeUpload(
  blobs: BlobStore,
  uri: ObjectUri,
  raw: Readable | undefined,
  expected: string | undefined,
): Promise<void> {
  const body = raw ?? Readable.from([]);
  if (!expected) {
    await blobs.putObject(uri, body);
    return;
  }
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
    await blobs.uploadFile(file, uri);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function registerObjectRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerObjectIo(app, ctx.blobs, '/objects', {
    read: (request, uri) => ctx.objects.checkRead(callerOf(request), uri),
    list: (request, prefix) => ctx.objects.checkRead(callerOf(request), { ...prefix, key: '' }),
    write: (request, uri) => ctx.objects.checkWrite(callerOf(request), uri),
    answerGet: async (request, uri) => {
      const query = request.query as Query;
      if (!['true', '1', ''].includes(one(query, 'Presign') ?? 'false')) return undefined;
      return presignObject(ctx, callerOf(request), uri, 'GET', one(query, 'Expires'));
    },
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
}
