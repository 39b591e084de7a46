/**
 * Shoal addition: an instance's stdout/stderr through the API, also without a redirect path, and streamed
 * while the attempt runs (`follow=true`): `GET /jobs/{id}/tasks/{task}/instances/{iid}/log?stream=stdout`.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { invalidParameter, type InstanceRecord } from '@shoal/core';
import type { ApiContext } from '../context.js';
import { callerOf } from '../context.js';
import { one, type Query } from '../query.js';

type InstanceParams = { jobId: string; task: string; iid: string };

const FOLLOW_POLL_MS = 200;
const CHUNK = 64 * 1024;

async function* readLog(
  path: string,
  offset: number,
  follow: boolean,
  stillRunning: () => Promise<boolean>,
  gone: AbortSignal,
): AsyncGenerator<Buffer> {
  let position = offset;
  // A follower that hangs up must stop polling: destroying the response does not end a generator that
  // is waiting between reads, so the client's disconnect is checked on every round.
  while (!gone.aborted) {
    const running = follow ? await stillRunning() : false;
    const file = await open(path, 'r').catch(() => undefined);
    if (file) {
      try {
        for (;;) {
          const buffer = Buffer.alloc(CHUNK);
          const { bytesRead } = await file.read(buffer, 0, CHUNK, position);
          if (bytesRead === 0) break;
          position += bytesRead;
          yield buffer.subarray(0, bytesRead);
        }
      } finally {
        await file.close();
      }
    }
    // Read once more after the attempt ended so nothing written at the very end is lost.
    if (!running) return;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}

export function registerLogRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: InstanceParams }>(
    '/jobs/:jobId/tasks/:task/instances/:iid/log',
    async (request, reply) => {
      const query = request.query as Query;
      const stream = one(query, 'stream') ?? 'stdout';
      if (stream !== 'stdout' && stream !== 'stderr')
        throw invalidParameter('stream', stream, 'must be stdout or stderr');
      const offsetText = one(query, 'offset') ?? '0';
      if (!/^\d+$/.test(offsetText))
        throw invalidParameter('offset', offsetText, 'must be a non-negative integer');
      const follow = ['true', '1', ''].includes(one(query, 'follow') ?? 'false');
      const { jobId, task } = request.params;
      const { instance } = await ctx.jobs.instance(callerOf(request), jobId, task, request.params.iid);
      const attemptText = one(query, 'attempt');
      if (attemptText !== undefined && !/^\d+$/.test(attemptText))
        throw invalidParameter('attempt', attemptText, 'must be an attempt number');
      const attemptNo = attemptText !== undefined ? Number(attemptText) : instance.attemptCount;
      const path = ctx.logs.readablePath(jobId, task, instance.instanceId, attemptNo, stream);
      const stillRunning = async () => {
        const now: InstanceRecord | undefined = await ctx.store.getInstance(jobId, task, instance.instanceId);
        return now !== undefined && now.state === 'Running' && now.attemptCount === attemptNo;
      };
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      reply.header('x-shoal-attempt', String(attemptNo));
      reply.type('text/plain; charset=utf-8');
      return reply.send(Readable.from(readLog(path, Number(offsetText), follow, stillRunning, gone.signal)));
    },
  );
}
