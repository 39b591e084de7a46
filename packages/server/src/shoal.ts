/**
 * The composition root of a Shoal server process: store, object store, API, scheduler and local worker,
 * wired from resolved options. `startShoal` returns once the API listens and the local worker runs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { BlobStore, Store } from '@shoal/core';
import { systemClock } from '@shoal/core';
import { openStore } from '@shoal/store';
import { createBlobStore } from '@shoal/blobs';
import { Runner } from '@shoal/agent';
import { buildApi } from './api/app.js';
import { KeyRing } from './api/auth.js';
import {
  ensureAdminCredentials,
  publishEndpoint,
  sealPlaintextSecrets,
  type Credentials,
} from './credentials.js';
import { loadOrCreateMasterKey, SecretSealer } from './sealing.js';
import { AccountService } from './services/account-service.js';
import { ObjectAccess } from './services/object-access.js';
import { LogFiles } from './logs.js';
import { resolveServerOptions, type ShoalServerOptions } from './options.js';
import { WorkerGateway } from './scheduler/gateway.js';
import { LocalWorker } from './scheduler/local-worker.js';
import { Maintenance } from './scheduler/maintenance.js';
import { JobService } from './services/job-service.js';

export interface RunningShoal {
  readonly url: string;
  readonly port: number;
  readonly credentials: Credentials;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly workerId: string;
  close(): Promise<void>;
}

export async function startShoal(input: ShoalServerOptions): Promise<RunningShoal> {
  const options = resolveServerOptions(input);
  const clock = systemClock;
  mkdirSync(options.dataDir, { recursive: true });
  const logger = pino({ level: options.logLevel, base: { service: 'shoal' } }, pino.destination(2));
  const store = await openStore(
    options.databaseUrl
      ? { databaseUrl: options.databaseUrl }
      : { sqlitePath: join(options.dataDir, 'shoal.db') },
  );
  const blobs: BlobStore =
    options.objectStore === 's3'
      ? createBlobStore({ kind: 's3', ...options.s3! })
      : createBlobStore({ kind: 'local', root: join(options.dataDir, 'objects') });
  const sealer = new SecretSealer(options.masterKey ?? loadOrCreateMasterKey(options.dataDir));
  const resealed = await sealPlaintextSecrets(store, sealer, clock);
  if (resealed)
    logger.info({ keys: resealed }, 'sealed access-key secrets stored in plaintext by an older version');
  let credentials = await ensureAdminCredentials(options.dataDir, store, sealer, clock);
  const logs = new LogFiles(join(options.dataDir, 'logs'));
  const gateway = new WorkerGateway(store, clock, {
    leaseMs: options.leaseMs,
    region: options.region,
    ossHost: `${options.host}:${options.port}`,
  });
  const objects = new ObjectAccess(store, clock);
  const jobs = new JobService(store, gateway, logs, clock, objects);
  const keys = new KeyRing(store, sealer);
  const accounts = new AccountService(store, keys, sealer, clock);
  const app = buildApi(
    { jobs, accounts, objects, store, blobs, logs, clock, slots: options.slots },
    { hostId: options.hostname, keys, logger },
  );

  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  credentials = publishEndpoint(options.dataDir, credentials, url);

  // Stable per host and data dir, so a restarted server recognises (and re-queues) its own cut-off attempts.
  const workerId = `i-${createHash('sha1').update(`${options.hostname}\u0000${options.dataDir}`).digest('hex').slice(0, 20)}`;
  let worker: LocalWorker | undefined;
  let runner: Runner | undefined;
  if (options.slots > 0) {
    runner = new Runner({
      workRoot: join(options.dataDir, 'work'),
      blobs,
      workerId,
      sandbox: options.sandbox,
      keepWorkDirs: options.keepWorkDirs,
    });
    worker = new LocalWorker(gateway, runner, logs, clock, logger.child({ component: 'local-worker' }), {
      workerId,
      hostname: options.hostname,
      slots: options.slots,
      heartbeatMs: options.heartbeatMs,
      pollMs: options.pollMs,
    });
    await worker.start();
  }
  const maintenance = new Maintenance(
    store,
    gateway,
    clock,
    (id) => jobs.release(id),
    logger.child({ component: 'maintenance' }),
    {
      intervalMs: 1000,
    },
  );
  maintenance.start();

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    credentials,
    store,
    blobs,
    workerId,
    close() {
      closing ??= (async () => {
        await app.close();
        await maintenance.stop();
        await worker?.stop();
        await runner?.close();
        await store.close();
        await blobs.close?.();
        logger.flush();
      })();
      return closing;
    },
  };
}
