/** Quotas, available instance types (spec §6.7–6.8; `bcs login` reads /available) and the event outbox. */
import type { FastifyInstance } from 'fastify';
import type { WireAvailable, WireEvent, WireQuota } from '@shoal/core';
import { formatTime, invalidParameter } from '@shoal/core';
import { wireInstanceType } from '../../execution.js';
import type { ApiContext } from '../context.js';
import { callerOf } from '../context.js';
import { maxItemCount, one, type Query } from '../query.js';

export function registerMiscRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/quotas', async (request): Promise<WireQuota> => {
    const caller = callerOf(request);
    const limits = ctx.quotas.limitsOf(caller);
    const usage = await ctx.quotas.usageOf(caller.ownerId);
    return {
      AvailableClusterInstanceDataDiskType: ['local'],
      AvailableClusterInstanceSystemDiskType: ['local'],
      AvailableClusterInstanceType: ctx.execution.catalog.map((t) => t.name),
      AvailableClusterResourceType: ['OnDemand'],
      AvailableSpotInstanceType: [],
      // Shoal addition: the caller's own quotas and what of them is in use.
      Limits: {
        Clusters: limits.clusters,
        Jobs: limits.jobs,
        TasksPerJob: limits.tasksPerJob,
        InstancesPerJob: limits.instancesPerJob,
        RunningInstances: Number.isFinite(limits.runningInstances) ? limits.runningInstances : null,
        CpuCores: Number.isFinite(limits.cpuCores) ? limits.cpuCores : null,
      },
      Usage: { Clusters: usage.clusters, Jobs: usage.jobs },
    };
  });

  app.get('/available', async (): Promise<WireAvailable> => {
    return {
      AvailableClusterInstanceType: ctx.execution.catalog.map(wireInstanceType),
      AvailableSpotInstanceType: [],
      AvailablePrepaidInstanceType: [],
      AvailableResourceType: ['OnDemand'],
      AvailableSystemDiskType: ['local'],
      AvailableDataDiskType: ['local'],
      Sandbox: ctx.execution.sandbox,
    };
  });

  /**
   * Shoal addition: the outbox, oldest first; `After` is the last Seq seen. With `Order=desc` the newest
   * first instead, `Before` paging back. A user sees the events of their own jobs; the admin sees all (also
   * those of deleted jobs).
   */
  app.get('/events', async (request) => {
    const caller = callerOf(request);
    const query = request.query as Query;
    const order = one(query, 'Order') ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw invalidParameter('Order', order, 'must be asc or desc');
    const after = one(query, 'After') ?? '0';
    if (!/^\d+$/.test(after)) throw invalidParameter('After', after, 'must be an event sequence number');
    const before = one(query, 'Before');
    if (before !== undefined && !/^\d+$/.test(before))
      throw invalidParameter('Before', before, 'must be an event sequence number');
    const limit = maxItemCount(query, 100, 1000);
    const owner = caller.admin ? undefined : caller.ownerId;
    const events =
      order === 'desc'
        ? await ctx.store.listRecentEvents(before === undefined ? undefined : Number(before), limit, owner)
        : await ctx.store.listEvents(Number(after), limit, owner);
    const items: WireEvent[] = events.map((e) => ({
      Seq: e.seq,
      Time: formatTime(e.timeUs),
      Type: e.type,
      JobId: e.jobId,
      TaskName: e.taskName,
      InstanceId: e.instanceId,
      State: e.state,
      Detail: { ...e.detail },
    }));
    return { NextMarker: items.length === limit ? String(items[items.length - 1]!.Seq) : '', Items: items };
  });
}
