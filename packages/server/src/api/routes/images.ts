/** Images (spec §4 rows 22–24). */
import type { FastifyInstance } from 'fastify';
import { readJson } from '../body.js';
import type { ApiContext } from '../context.js';
import { callerOf } from '../context.js';
import { listParams, one, type Query } from '../query.js';

type ImageParams = { imageId: string };

export function registerImageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/images', async (request, reply) => {
    const body = await readJson(request.body, request.headers['content-md5'] as string | undefined);
    const token = one(request.query as Query, 'IdempotentToken');
    const id = await ctx.images.create(callerOf(request), body, token ? token : null);
    return reply.status(201).send({ Id: id });
  });

  app.get('/images', async (request) => {
    const query = request.query as Query;
    const params = listParams(query, 50, 100);
    const page = await ctx.images.list(callerOf(request), {
      system: one(query, 'Type') === 'System',
      limit: params.limit,
      ...(params.marker ? { marker: params.marker } : {}),
    });
    return { NextMarker: page.nextMarker, Items: page.items };
  });

  app.get<{ Params: ImageParams }>('/images/:imageId', async (request) =>
    ctx.images.get(callerOf(request), request.params.imageId),
  );

  app.delete<{ Params: ImageParams }>('/images/:imageId', async (request, reply) => {
    await ctx.images.delete(callerOf(request), request.params.imageId);
    return reply.status(200).send('');
  });
}
