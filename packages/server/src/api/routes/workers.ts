/**
 * The worker protocol (Shoal addition; docs/api.md, "Worker protocol"): agents with a worker token of
 * the cluster join it, exchange results for assignments, heartbeat, wait for signals, send logs and
 * reach the objects of the attempts they hold. Nothing here answers a user key (app.ts).
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidParameter } from '@shoal/core';
import { readJson } from '../body.js';
import type { ApiContext } from '../context.js';
import { workerOf } from '../context.js';
import { one, type Query } from '../query.js';
import { registerObjectIo } from './objects.js';

type ClusterParams = { clusterId: string };
type WorkerParams = ClusterParams & { workerId: string };

const BASE = '/clusters/:clusterId/workers/:workerId';

function params(request: FastifyRequest): WorkerParams {
  return request.params as WorkerParams;
}

export function registerWorkerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const workers = ctx.workers;
  const body = (request: FastifyRequest) =>
    readJson(request.body, request.headers['content-md5'] as string | undefined);

  app.post<{ Params: ClusterParams }>('/clusters/:clusterId/workers', async (request, reply) => {
    const registered = await workers.register(
      workerOf(request),
      request.params.clusterId,
      await body(request),
    );
    return reply.status(201).send(registered);
  });

  app.post(`${BASE}/exchange`, async (request) => {
    const { clusterId, workerId } = params(request);
    return workers.exchange(workerOf(request), clusterId, workerId, await body(request));
  });

  app.delete(BASE, async (request) => {
    const { clusterId, workerId } = params(request);
    await workers.leave(workerOf(request), clusterId, workerId);
    return '';
  });

  app.post(`${BASE}/heartbeat`, async (request) => {
    const { clusterId, workerId } = params(request);
    return workers.heartbeat(workerOf(request), clusterId, workerId, await body(request));
  });

  app.get(`${BASE}/assignment`, async (request) => {
    const { clusterId, workerId } = params(request);
    const q = request.query as Query;
    return workers.heldAssignment(workerOf(request), clusterId, workerId, {
      jobId: one(q, 'JobId'),
      taskName: one(q, 'TaskName'),
      instanceId: one(q, 'InstanceId'),
      attemptNo: one(q, 'AttemptNo'),
    });
  });

  app.get(`${BASE}/signals`, async (request, reply) => {
    const { clusterId, workerId } = params(request);
    const raw = one(request.query as Query, 'WaitMs') ?? '20000';
    if (!/^\d{1,6}$/.test(raw))
      throw invalidParameter('WaitMs', raw, 'must be a whole number of milliseconds');
    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort());
    return workers.waitForSignal(workerOf(request), clusterId, workerId, Number(raw), gone.signal);
  });

  app.put<{ Params: WorkerParams & { attemptId: string; stream: string } }>(
    `${BASE}/logs/:attemptId/:stream`,
    async (request, reply) => {
      const { clusterId, workerId, attemptId, stream } = request.params;
      if (stream !== 'stdout' && stream !== 'stderr')
        throw invalidParameter('stream', stream, 'must be stdout or stderr');
      await workers.writeLog(
        workerOf(request),
        clusterId,
        workerId,
        attemptId,
        stream,
        request.body as Readable,
      );
      return reply.status(201).send('');
    },
  );

  registerObjectIo(app, ctx.blobs, `${BASE}/objects`, {
    read: (request, uri) => {
      const { clusterId, workerId } = params(request);
      return workers.checkObject(workerOf(request), clusterId, workerId, uri, 'read');
    },
    list: (request, prefix) => {
      const { clusterId, workerId } = params(request);
      return workers.checkObject(workerOf(request), clusterId, workerId, prefix, 'read');
    },
    write: (request, uri) => {
      const { clusterId, workerId } = params(request);
      return workers.checkObject(workerOf(request), clusterId, workerId, uri, 'write');
    },
  });
}
