/** Jobs (spec §4 rows 1–8). */
import type { FastifyInstance } from 'fastify';
import { invalidParameter } from '@shoal/core';
import { readJson } from '../body.js';
import type { ApiContext } from '../context.js';
import { callerOf } from '../context.js';
import { presentJob } from '../present.js';
import { listParams, one, type Query } from '../query.js';

type JobParams = { jobId: string };

export function registerJobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/jobs', async (request, reply) => {
    const body = await readJson(request.body, request.headers['content-md5'] as string | undefined);
    const token = one(request.query as Query, 'IdempotentToken');
    const id = await ctx.jobs.submit(callerOf(request), body, token ? token : null);
    return reply.status(201).send({ Id: id });
  });

  app.get('/jobs', async (request) => {
    const params = listParams(request.query as Query, 50, 100);
    // Shoal addition: Name=<text> keeps the jobs whose name contains it (the console's search).
    const name = one(request.query as Query, 'Name') ?? '';
    if (name.length > 100) throw invalidParameter('Name', name, 'must be at most 100 characters');
    const page = await ctx.jobs.list(callerOf(request), {
      limit: params.limit,
      ...(params.marker ? { marker: params.marker } : {}),
      ...(params.states ? { states: params.states } : {}),
      ...(name ? { nameContains: name } : {}),
    });
    return { NextMarker: page.nextMarker, Items: page.items.map(presentJob) };
  });

  app.get<{ Params: JobParams }>('/jobs/:jobId', async (request) => {
    const caller = callerOf(request);
    if ('description' in (request.query as Query)) return ctx.jobs.description(caller, request.params.jobId);
    return presentJob(await ctx.jobs.get(caller, request.params.jobId));
  });

  app.post<{ Params: JobParams }>('/jobs/:jobId/stop', async (request, reply) => {
    await readJson(request.body, undefined);
    await ctx.jobs.stop(callerOf(request), request.params.jobId);
    return reply.status(201).send('');
  });

  app.post<{ Params: JobParams }>('/jobs/:jobId/start', async (request, reply) => {
    await readJson(request.body, undefined);
    await ctx.jobs.start(callerOf(request), request.params.jobId);
    return reply.status(201).send('');
  });

  app.put<{ Params: JobParams }>('/jobs/:jobId', async (request, reply) => {
    const body = await readJson(request.body, request.headers['content-md5'] as string | undefined);
    await ctx.jobs.changePriority(callerOf(request), request.params.jobId, body);
    return reply.status(200).send('');
  });

  app.delete<{ Params: JobParams }>('/jobs/:jobId', async (request, reply) => {
    await ctx.jobs.delete(callerOf(request), request.params.jobId);
    return reply.status(200).send('');
  });
}
