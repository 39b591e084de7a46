/** Clusters and their workers, the cluster VMs of the API (spec §4 rows 13–20). */
import type { FastifyInstance } from 'fastify';
import { readJson } from '../body.js';
import type { ApiContext } from '../context.js';
import { callerOf } from '../context.js';
import { maxItemCount, one, type Query } from '../query.js';

type ClusterParams = { clusterId: string };
type GroupParams = ClusterParams & { group: string };
type VmParams = GroupParams & { vm: string };

function page(query: Query, defaultLimit: number, maxLimit: number) {
  const marker = one(query, 'Marker');
  return { limit: maxItemCount(query, defaultLimit, maxLimit), ...(marker ? { marker } : {}) };
}

export function registerClusterRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/clusters', async (request, reply) => {
    const body = await readJson(request.body, request.headers['content-md5'] as string | undefined);
    const token = one(request.query as Query, 'IdempotentToken');
    const id = await ctx.clusters.create(callerOf(request), body, token ? token : null);
    return reply.status(201).send({ Id: id });
  });

  app.get('/clusters', async (request) => {
    const result = await ctx.clusters.list(callerOf(request), page(request.query as Query, 50, 100));
    return { NextMarker: result.nextMarker, Items: result.items };
  });

  app.get<{ Params: ClusterParams }>('/clusters/:clusterId', async (request) =>
    ctx.clusters.get(callerOf(request), request.params.clusterId),
  );

  app.put<{ Params: ClusterParams }>('/clusters/:clusterId', async (request, reply) => {
    const body = await readJson(request.body, request.headers['content-md5'] as string | undefined);
    await ctx.clusters.modify(callerOf(request), request.params.clusterId, body);
    return reply.status(200).send('');
  });

  app.delete<{ Params: ClusterParams }>('/clusters/:clusterId', async (request, reply) => {
    await ctx.clusters.delete(callerOf(request), request.params.clusterId);
    return reply.status(200).send('');
  });

  app.post<{ Params: ClusterParams }>('/clusters/:clusterId/tokens', async (request, reply) => {
    const token = await ctx.clusters.createToken(callerOf(request), request.params.clusterId);
    return reply.status(201).send(token);
  });

  app.get<{ Params: ClusterParams }>('/clusters/:clusterId/tokens', async (request) => {
    const items = await ctx.clusters.listTokens(callerOf(request), request.params.clusterId);
    return { NextMarker: '', Items: items };
  });

  app.delete<{ Params: ClusterParams & { tokenId: string } }>(
    '/clusters/:clusterId/tokens/:tokenId',
    async (request, reply) => {
      await ctx.clusters.deleteToken(callerOf(request), request.params.clusterId, request.params.tokenId);
      return reply.status(200).send('');
    },
  );

  app.get<{ Params: GroupParams }>('/clusters/:clusterId/groups/:group/instances', async (request) => {
    const { clusterId, group } = request.params;
    const result = await ctx.clusters.listInstances(
      callerOf(request),
      clusterId,
      group,
      page(request.query as Query, 50, 100),
    );
    return { NextMarker: result.nextMarker, Items: result.items };
  });

  app.get<{ Params: VmParams }>('/clusters/:clusterId/groups/:group/instances/:vm', async (request) => {
    const { clusterId, group, vm } = request.params;
    return ctx.clusters.getInstance(callerOf(request), clusterId, group, vm);
  });

  app.delete<{ Params: VmParams }>(
    '/clusters/:clusterId/groups/:group/instances/:vm',
    async (request, reply) => {
      const { clusterId, group, vm } = request.params;
      await ctx.clusters.deleteInstance(callerOf(request), clusterId, group, vm);
      return reply.status(200).send('');
    },
  );

  // Spec row 21; 201 like the other actions (stop, start).
  app.post<{ Params: VmParams }>(
    '/clusters/:clusterId/groups/:group/instances/:vm/recreate',
    async (request, reply) => {
      const { clusterId, group, vm } = request.params;
      await ctx.clusters.recreateInstance(callerOf(request), clusterId, group, vm);
      return reply.status(201).send('');
    },
  );
}
