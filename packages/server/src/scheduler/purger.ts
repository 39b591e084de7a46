/**
 * Purges deleted jobs after the delete returned: their logs, then their rows in batches of PURGE_BATCH,
 * each its own short transaction with a turn of the event loop in between, so the API keeps answering
 * while a job of a million instances goes. A restarted server carries on where the last one stopped
 * (deleted jobs stay marked until their last row is gone).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Store } from '@shoal/core';
import type { Logger } from 'pino';
import { RoundsOf } from '../provisioner/rounds.js';

/** Rows per purge transaction: a millisecond or two of SQLite work, so a probe never waits long behind one. */
export const PURGE_BATCH = 500;

export class Purger extends RoundsOf {
  constructor(
    private readonly store: Store,
    private readonly deleteLogs: (jobId: string) => Promise<void>,
    private readonly log: Logger,
    intervalMs: number,
  ) {
    super(intervalMs, 'job purge', log);
  }

  protected async round(): Promise<void> {
    for (const jobId of await this.store.listDeletedJobs(10)) {
      const started = Date.now();
      // Logs that cannot be removed now (a disk error) must not hold back the rows, nor other jobs.
      await this.deleteLogs(jobId).catch((err: unknown) =>
        this.log.warn({ err, jobId }, "could not remove a deleted job's logs; its rows are purged anyway"),
      );
      let rows = 0;
      for (let n = 1; n > 0 && !this.stopping; rows += n) {
        n = await this.store.purgeJob(jobId, PURGE_BATCH);
        await nextTurn();
      }
      // Stopped half way: the next start carries on (the job stays marked until its last row is gone).
      if (this.stopping) return;
      this.log.debug({ jobId, rows, ms: Date.now() - started }, 'purged a deleted job');
    }
  }
}
