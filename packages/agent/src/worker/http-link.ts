/**
 * `shoal agent`'s link to the scheduler: the worker protocol over HTTP with a worker token. Signals
 * come from a long poll kept open in the background; a failed poll backs off and tries again.
 */
import type { WorkerClient } from '@shoal/sdk';
import type { WorkerLink, WorkerLog } from './link.js';

const SIGNAL_WAIT_MS = 20_000;

export function httpLink(client: WorkerClient, log: WorkerLog): WorkerLink {
  return {
    async register(worker) {
      const reply = await client.register({
        workerId: worker.workerId,
        group: worker.groupName,
        hostname: worker.hostname,
        slots: worker.slots,
      });
      return { leaseMs: reply.LeaseMs, requeued: reply.Requeued };
    },
    exchange: (_workerId, results, want, options) => client.exchange(results, want, options),
    async heartbeat(_workerId, held) {
      const reply = await client.heartbeat(held);
      return { cancel: reply.Cancel, drain: reply.Drain };
    },
    leave: () => client.leave(),
    watch(_workerId, signals) {
      const stop = new AbortController();
      void (async () => {
        let failures = 0;
        while (!stop.signal.aborted) {
          try {
            const news = await client.waitForSignal(SIGNAL_WAIT_MS, stop.signal);
            failures = 0;
            if (news.Work) signals.work();
            if (news.Cancel) signals.cancel();
          } catch (err) {
            if (stop.signal.aborted) return;
            failures++;
            log.warn({ err, failures }, 'waiting for scheduler signals failed');
            await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** failures)));
          }
        }
      })();
      return () => stop.abort();
    },
  };
}
