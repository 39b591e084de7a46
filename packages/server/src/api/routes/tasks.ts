/** Tasks and instances of a job (spec §4 rows 9–12). */
import type { FastifyInstance } from 'fastify';
import type { WirePendingReason } from '@shoal/core';
import type { ApiContext } from '../context.js';
import { callerOf } from '../context.js';
import { presentInstance, presentTask } from '../present.js';
import { LIST_COUNT_CAP } from '../../services/pending-reasons.js';
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

/** A wire object with its PendingReason (Shoal addition), when it has one. */
function withReason<T extends object>(wire: T, reason: WirePendingReason | undefined): T {
  return reason ? { ...wire, PendingReason: reason } : wire;
}

export function registerTaskRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { jobId: string } }>('/jobs/:jobId/tasks', async (request) => {
    const caller = callerOf(request);
    const job = await ctx.jobs.get(caller, request.params.jobId);
    const page = await ctx.jobs.tasks(caller, job.id, children(request.query as Query, 50, 100));
    const items = [];
    for (const task of page.items)
      items.push(withReason(presentTask(task), await ctx.pending.ofTask(task, job.ownerId, LIST_COUNT_CAP)));
    return { NextMarker: page.nextMarker, Items: items };
  });

  app.get<{ Params: TaskParams }>('/jobs/:jobId/tasks/:task', async (request) => {
    const caller = callerOf(request);
    const job = await ctx.jobs.get(caller, request.params.jobId);
    const task = await ctx.jobs.task(caller, job.id, request.params.task);
    return withReason(presentTask(task), await ctx.pending.ofTask(task, job.ownerId));
  });

  app.get<{ Params: TaskParams }>('/jobs/:jobId/tasks/:task/instances', async (request) => {
    const caller = callerOf(request);
    const { jobId, task } = request.params;
    const job = await ctx.jobs.get(caller, jobId);
    const record = await ctx.jobs.task(caller, jobId, task);
    const page = await ctx.jobs.instances(caller, jobId, task, children(request.query as Query, 50, 200));
    // The task's reason for its waiting instances, with each queued one's own place in the queue.
    const reasons = await ctx.pending.ofListed(record, page.items, job.ownerId);
    return {
      NextMarker: page.nextMarker,
      Items: page.items.map((instance) =>
        withReason(presentInstance(record, instance), reasons.get(instance.instanceId)),
      ),
    };
  });

  app.get<{ Params: InstanceParams }>('/jobs/:jobId/tasks/:task/instances/:iid', async (request) => {
    const caller = callerOf(request);
    const job = await ctx.jobs.get(caller, request.params.jobId);
    const { task, instance } = await ctx.jobs.instance(
      caller,
      job.id,
      request.params.task,
      request.params.iid,
    );
    return withReason(
      presentInstance(task, instance),
      await ctx.pending.ofInstance(task, instance, job.ownerId),
    );
  });
}
