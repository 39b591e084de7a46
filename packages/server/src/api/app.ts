/**
 * The HTTP API: BatchCompute 2015-11-11 routes plus Shoal's additions, behind acs signature checks.
 * Every response carries `x-acs-request-id`; every error is `{Code, Message, RequestId, HostId}`.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type { Logger } from 'pino';
import { isShoalError, ShoalError } from '@shoal/core';
import { newRequestId } from '../ids.js';
import { authenticate, type KeyRing } from './auth.js';
import { isWorkerRoute } from './worker-auth.js';
import type { ApiContext } from './context.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { registerMiscRoutes } from './routes/misc.js';
import { registerObjectRoutes } from './routes/objects.js';
import { registerLogRoutes } from './routes/logs.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerImageRoutes } from './routes/images.js';
import { registerClusterRoutes } from './routes/clusters.js';
import { registerWorkerRoutes } from './routes/workers.js';
import { isConsolePath, registerConsoleRoutes } from './console.js';

export interface ApiOptions {
  readonly hostId: string;
  readonly keys: KeyRing;
  readonly logger: Logger;
}

function errorBody(code: string, message: string, requestId: string, hostId: string) {
  return { Code: code, Message: message, RequestId: requestId, HostId: hostId };
}

export function buildApi(ctx: ApiContext, options: ApiOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Per-request log lines would cost more than the requests themselves on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newRequestId(),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // Object uploads stream through; JSON bodies are limited by readJson.
    bodyLimit: 64 * 1024 * 1024 * 1024,
    return503OnClosing: true,
    // On close, end keep-alive and streaming (log follow) connections instead of waiting for them.
    forceCloseConnections: true,
    // A URL the router cannot decode (a bad %-escape) or an overlong path parameter gets the API's own
    // error shape, not Fastify's.
    frameworkErrors: (error, request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      reply.header('x-acs-request-id', request.id);
      void reply
        .status(400)
        .send(
          errorBody(
            'InvalidParameter',
            `The request URL is not valid: ${error.message}.`,
            request.id,
            options.hostId,
          ),
        );
    },
  });
  app.decorateRequest('caller', null);
  app.decorateRequest('worker', null);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-acs-request-id', request.id);
    const path = (request.raw.url ?? '/').split('?')[0]!;
    // The console's own files are public; the page signs every API call it makes.
    if (isConsolePath(path) && request.method === 'GET') return;
    if (isWorkerRoute(path)) {
      request.worker = await ctx.workerTokens.authenticate(request.headers.authorization);
      return;
    }
    if (/^Bearer wt-/.test(request.headers.authorization ?? ''))
      throw new ShoalError(
        'Forbidden.WrongCredential',
        'A worker token reaches the worker routes (/clusters/{id}/workers/...) only; sign user requests with an access key.',
      );
    request.caller = await authenticate(
      options.keys,
      ctx.clock,
      request.method,
      request.raw.url ?? '/',
      request.headers,
    );
  });

  app.setErrorHandler((error: FastifyError | ShoalError, request, reply) => {
    if (isShoalError(error)) {
      void reply.status(error.status).send(errorBody(error.code, error.message, request.id, options.hostId));
      return;
    }
    const status = (error as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      void reply
        .status(status)
        .send(errorBody('InvalidParameter', error.message, request.id, options.hostId));
      return;
    }
    request.log.error({ err: error, requestId: request.id }, 'unhandled error');
    void reply
      .status(500)
      .send(
        errorBody(
          'InternalError',
          'The server hit an internal error; see its log for the request id.',
          request.id,
          options.hostId,
        ),
      );
  });

  app.setNotFoundHandler((request, reply) => {
    const path = (request.raw.url ?? '').split('?')[0];
    void reply
      .status(404)
      .send(
        errorBody(
          'InvalidAction.NotFound',
          `There is no operation ${request.method} ${path}.`,
          request.id,
          options.hostId,
        ),
      );
  });

  registerJobRoutes(app, ctx);
  registerTaskRoutes(app, ctx);
  registerLogRoutes(app, ctx);
  registerMiscRoutes(app, ctx);
  registerObjectRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerImageRoutes(app, ctx);
  registerClusterRoutes(app, ctx);
  registerWorkerRoutes(app, ctx);
  registerConsoleRoutes(app);
  return app;
}
