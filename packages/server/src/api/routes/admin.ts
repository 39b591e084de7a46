/** Shoal addition: users and access keys (admin only) and `GET /whoami` (any key). */
import type { FastifyInstance } from 'fastify';
import { formatTime } from '@shoal/core';
import { readJson } from '../body.js';
import type { ApiContext } from '../context.js';
import { callerOf } from '../context.js';
import { maxItemCount, one, type Query } from '../query.js';

type UserParams = { name: string };
type KeyParams = { akid: string };

function pageParams(query: Query): { marker?: string; limit: number } {
  const marker = one(query, 'Marker');
  return { limit: maxItemCount(query, 100, 1000), ...(marker ? { marker } : {}) };
}

export function registerAdminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/whoami', async (request) => {
    const caller = callerOf(request);
    return {
      Name: caller.name,
      OwnerId: caller.ownerId,
      AccessKeyId: caller.accessKeyId,
      Admin: caller.admin,
    };
  });

  app.post('/users', async (request, reply) => {
    const body = await readJson(request.body, request.headers['content-md5'] as string | undefined);
    const user = await ctx.accounts.createUser(callerOf(request), body);
    return reply.status(201).send({ Id: user.name, OwnerId: user.ownerId });
  });

  app.get('/users', async (request) => {
    const page = await ctx.accounts.listUsers(callerOf(request), pageParams(request.query as Query));
    return {
      NextMarker: page.nextMarker,
      Items: page.items.map((u) => ({
        Name: u.name,
        OwnerId: u.ownerId,
        CreationTime: formatTime(u.createdAtUs),
        KeyCount: u.keyCount,
      })),
    };
  });

  app.delete<{ Params: UserParams }>('/users/:name', async (request, reply) => {
    await ctx.accounts.deleteUser(callerOf(request), request.params.name);
    return reply.status(200).send('');
  });

  app.post<{ Params: UserParams }>('/users/:name/keys', async (request, reply) => {
    await readJson(request.body, undefined);
    const key = await ctx.accounts.createAccessKey(callerOf(request), request.params.name);
    return reply.status(201).send(key);
  });

  app.get<{ Params: UserParams }>('/users/:name/keys', async (request) => {
    const keys = await ctx.accounts.listAccessKeys(callerOf(request), request.params.name);
    return {
      NextMarker: '',
      Items: keys.map((k) => ({
        AccessKeyId: k.id,
        State: k.disabled ? 'Disabled' : 'Active',
        CreationTime: formatTime(k.createdAtUs),
      })),
    };
  });

  app.post<{ Params: KeyParams }>('/keys/:akid/disable', async (request, reply) => {
    await readJson(request.body, undefined);
    await ctx.accounts.setAccessKeyState(callerOf(request), request.params.akid, true);
    return reply.status(201).send('');
  });

  app.post<{ Params: KeyParams }>('/keys/:akid/enable', async (request, reply) => {
    await readJson(request.body, undefined);
    await ctx.accounts.setAccessKeyState(callerOf(request), request.params.akid, false);
    return reply.status(201).send('');
  });

  app.delete<{ Params: KeyParams }>('/keys/:akid', async (request, reply) => {
    await ctx.accounts.deleteAccessKey(callerOf(request), request.params.akid);
    return reply.status(200).send('');
  });
}
