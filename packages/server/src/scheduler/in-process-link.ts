/** The embedded worker's link to the scheduler: the gateway's calls, in process, with its signals. */
import type { WorkerLink } from '@shoal/agent';
import type { WorkerGateway } from './gateway.js';

export function inProcessLink(gateway: WorkerGateway): WorkerLink {
  return {
    register: (worker) => gateway.register(worker),
    exchange: (workerId, results, want, options) => gateway.exchange(workerId, results, want, options),
    heartbeat: (workerId, held) => gateway.heartbeat(workerId, held),
    leave: (workerId) => gateway.leave(workerId),
    watch(_workerId, signals) {
      gateway.signals.on('work', signals.work);
      gateway.signals.on('cancel', signals.cancel);
      return () => {
        gateway.signals.off('work', signals.work);
        gateway.signals.off('cancel', signals.cancel);
      };
    },
  };
}
