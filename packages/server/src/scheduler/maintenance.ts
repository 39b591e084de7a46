/**
 * Background upkeep: re-queue work of workers whose leases expired, delete Finished jobs that asked for
 * AutoRelease, and forget signature nonces past the skew window. Failures are logged, counted and retried on the next tick; the loop never stops on an error.
 */
import type { Clock, Store } from '@shoal/core';
import type { Logger } from 'pino';
import type { WorkerGateway } from './gateway.js';

export interface MaintenanceOptions {
  readonly intervalMs: number;
}

export class Maintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  failures = 0;

  constructor(
    private readonly store: Store,
    private readonly gateway: WorkerGateway,
    private readonly clock: Clock,
    private readonly releaseJob: (jobId: string) => Promise<void>,
    private readonly log: Logger,
    private readonly options: MaintenanceOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    try {
      const expired = await this.store.expireLeases(this.clock.nowUs());
      if (expired) {
        this.log.warn({ expired }, 're-queued attempts whose worker stopped renewing its lease');
        this.gateway.notifyWork();
      }
      for (const jobId of await this.store.listAutoReleasable(100)) await this.releaseJob(jobId);
      await this.store.pruneNonces(this.clock.nowUs());
    } catch (err) {
      this.failures++;
      this.log.error({ err, failures: this.failures }, 'maintenance tick failed');
    }
  }
}
