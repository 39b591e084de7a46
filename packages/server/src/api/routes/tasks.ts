/** Tasks and instances of a job (spec §4 rows 9–12). */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { callerOf } from '../context.js';
import { presentInstance, presentTask } from '../present.js';
import { listParams, type Query } from '../query.js';

type TaskParams = { jobId: string; task: string };
type InstanceParams = TaskParams & { iid: string };

function children(query: Query, defaultLimit: number, maxLimit: number) {
  const params = listParams(query, defaultLimit, maxLimit);
  return {
    limit: params.limit,
    ...(params.marker !== undefined ? { marker: params.marker } : {}),
    ...(params.states ? { states: params.states } : {}),
  };
}

export function registerTaskRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { jobId: string } }>('/jobs/:jobId/tasks', async (request) => {
    const page = await ctx.jobs.tasks(
      callerOf(request),
      request.params.jobId,
      children(request.query as Query, 50, 100),
    );
    return { NextMarker: page.nextMarker, Items: page.items.map(presentTask) };
  });

  app.get<{ Params: TaskParams }>('/jobs/:jobId/tasks/:task', async (request) => {
    return presentTask(await ctx.jobs.task(callerOf(request), request.params.jobId, request.params.task));
  });

  app.get<{ Params: TaskParams }>('/jobs/:jobId/tasks/:task/instances', async (request) => {
    const caller = callerOf(request);
    const { jobId, task } = request.params;
    const record = await ctx.jobs.task(caller, jobId, task);
    const page = await ctx.jobs.instances(caller, jobId, task, children(request.query as Query, 50, 200));
    return {
      NextMarker: page.nextMarker,
      Items: page.items.map((instance) => presentInstance(record, instance)),
    };
  });

  app.get<{ Params: InstanceParams }>('/jobs/:jobId/tasks/:task/instances/:iid', async (request) => {
    const { task, instance } = await ctx.jobs.instance(
      callerOf(request),
      request.params.jobId,
      request.params.task,
      request.params.iid,
    );
    return presentInstance(task, instance);
  });
}
