/**
 * One element of a Slurm job array: runs one instance of a Shoal task and exits. The server's Slurm
 * provider claimed the attempts of the array as its cluster's dispatcher worker and submitted them with
 * `sbatch --array=<instance ids>`; the element acts for that worker: it asks for the attempt held of
 * instance $SLURM_ARRAY_TASK_ID, runs it through the same runner (sandbox, limits, staging) as any agent,
 * sends its logs and reports its result. The dispatcher renews the leases and reconciles elements that
 * Slurm ended without a report (cancelled, node failure, preempted).
 * Settings come as JSON in SHOAL_SLURM_ELEMENT (the environment, not argv: it holds the worker token).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ShoalApiError, WorkerClient } from '@shoal/sdk';
import { Runner } from '../runner/runner.js';
import { DEFAULT_UID_LEASE_DIR, leaseUid } from '../sandbox/uid-lease.js';
import { RemoteAttemptLogs } from './agent.js';
import { RemoteBlobStore } from './remote-blobs.js';

export interface SlurmElementConfig {
  readonly server: string;
  readonly token: string;
  readonly clusterId: string;
  /** The dispatcher worker that holds the attempts. */
  readonly workerId: string;
  readonly jobId: string;
  readonly taskName: string;
  /** Array index -> [instance id, attempt number] of the attempt that element runs. */
  readonly elements: readonly (readonly [number, number])[];
  /** Where elements on a node keep their working directories (one per element, removed after). */
  readonly workDir: string;
  readonly sandbox: 'bwrap' | 'off';
  /** The uids elements of this node share, one leased per element. */
  readonly sandboxUidBase: number;
  readonly sandboxUidCount: number;
  readonly uidLeaseDir?: string;
}

const REPORT_TRIES = 4;

function say(message: string): void {
  process.stderr.write(`shoal slurm element: ${message}\n`);
}

async function main(): Promise<number> {
  const raw = process.env.SHOAL_SLURM_ELEMENT;
  if (!raw) throw new Error('SHOAL_SLURM_ELEMENT is not set');
  delete process.env.SHOAL_SLURM_ELEMENT;
  const c = JSON.parse(raw) as SlurmElementConfig;
  const index = Number(process.env.SLURM_ARRAY_TASK_ID);
  const slurmJob = process.env.SLURM_JOB_ID ?? String(process.pid);
  const mine = Number.isInteger(index) ? c.elements[index] : undefined;
  if (!mine) throw new Error(`SLURM_ARRAY_TASK_ID ${String(index)} is not an element of this array`);
  const [instanceId, attemptNo] = mine;

  const client = new WorkerClient({ endpoint: c.server, workerToken: c.token }, c.clusterId);
  client.actAs(c.workerId);
  let assignment;
  try {
    assignment = await client.heldAssignment(c.jobId, c.taskName, instanceId, attemptNo);
  } catch (err) {
    // Stopped, or re-queued (and maybe claimed again, as another attempt) since it was submitted.
    if (err instanceof ShoalApiError && err.status === 404) {
      say(`attempt ${c.jobId}.${c.taskName}.${instanceId}.${attemptNo} is no longer held for this element`);
      return 0;
    }
    throw err;
  }

  const dir = path.join(c.workDir, 'elements', slurmJob.replace(/[^0-9A-Za-z_.-]/g, '_'));
  const lease =
    c.sandbox === 'off'
      ? undefined
      : await leaseUid(
          c.uidLeaseDir ?? DEFAULT_UID_LEASE_DIR,
          c.sandboxUidBase,
          c.sandboxUidCount,
          Number(slurmJob) % c.sandboxUidCount || 0,
        );
  const runner = new Runner({
    workRoot: path.join(dir, 'work'),
    blobs: new RemoteBlobStore(client),
    workerId: c.workerId,
    sandbox: c.sandbox,
    sandboxUidBase: lease?.uid ?? c.sandboxUidBase,
    sandboxUidCount: 1,
    warmSandboxes: 0,
    imageCacheDir: path.join(c.workDir, 'images'),
  });
  // scancel (a stop, or someone cancelling the element) sends SIGTERM: end the command and report
  // nothing; the dispatcher knows why the element ended and settles the attempt.
  const abort = new AbortController();
  let cancelled = false;
  const onSignal = () => {
    cancelled = true;
    abort.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const logs = new RemoteAttemptLogs(client, path.join(dir, 'logs'));
    const files = await logs.files(assignment);
    const result = await runner.runAttempt(assignment, { ...files, signal: abort.signal });
    if (cancelled) return 143;
    // A finished result is worth a few tries: lost, it would come back as a SlurmFailure and a retry.
    for (let tries = 1; ; tries++) {
      try {
        await logs.ended(assignment, files);
        await client.exchange([result], 0);
        return 0;
      } catch (err) {
        if (tries >= REPORT_TRIES) throw err;
        say(`reporting failed (${err instanceof Error ? err.message : String(err)}); trying again`);
        await new Promise((resolve) => setTimeout(resolve, 1000 * tries));
      }
    }
  } finally {
    await runner.close();
    await rm(dir, { recursive: true, force: true });
    await lease?.release();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
