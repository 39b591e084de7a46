/**
 * `shoal agent`: a worker on any host. It joins a cluster with a worker token, claims attempts of that
 * cluster, runs them in its sandbox and reports them, all over the worker protocol (HTTP). It never
 * holds a user's keys or the object store's credentials: objects and logs go through the server, for the
 * attempts it holds only.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Assignment } from '@shoal/core';
import { systemClock } from '@shoal/core';
import { WorkerClient } from '@shoal/sdk';
import { Runner } from '../runner/runner.js';
import type { RunnerOptions } from '../runner/options.js';
import { httpLink } from './http-link.js';
import type { AttemptFiles, AttemptLogs, WorkerLog } from './link.js';
import { RemoteBlobStore } from './remote-blobs.js';
import { SpareLogs } from './spare-logs.js';
import { WorkerLoop } from './worker-loop.js';

export interface AgentOptions {
  readonly server: string;
  readonly token: string;
  readonly clusterId: string;
  /** '' = the cluster's only group. */
  readonly group: string;
  readonly slots: number;
  /** Where attempts' working directories and logs live on this host. */
  readonly workDir: string;
  readonly sandbox: 'bwrap' | 'off';
  readonly sandboxUidBase?: number;
  readonly sandboxUidCount?: number;
  readonly hostname?: string;
  readonly heartbeatMs?: number;
  readonly pollMs?: number;
  readonly log: WorkerLog;
}

export interface RunningAgent {
  readonly workerId: string;
  /** Finishes what it holds, claims nothing new; resolves when nothing is left. */
  drain(): Promise<void>;
  /** Stops at once: running attempts are cut off and run again elsewhere, without using a retry. */
  stop(): Promise<void>;
}

/** Sandbox uids of an agent: a block of its own, so agents sharing a host (or one with a server) do not share uids. */
export function agentUidBase(workerId: string): number {
  const block = parseInt(workerId.slice(2, 8), 16) % 4096;
  return 2_147_400_000 - 64 * (1 + block);
}

/**
 * A stable worker id per host, work directory and cluster: a restarted agent is recognised as the same
 * worker; one started for another cluster is another worker.
 */
export function agentWorkerId(host: string, workDir: string, clusterId: string): string {
  const seed = ['agent', host, path.resolve(workDir), clusterId].join('\u0000');
  return `i-${createHash('sha1').update(seed).digest('hex').slice(0, 20)}`;
}

/** Logs of an attempt: files on this host while it runs, sent to the server once it ended. */
export class RemoteAttemptLogs implements AttemptLogs {
  private readonly spares = new SpareLogs();

  constructor(
    private readonly client: WorkerClient,
    private readonly dir: string,
  ) {}

  async files(a: Assignment): Promise<AttemptFiles> {
    await mkdir(this.dir, { recursive: true });
    const base = path.join(this.dir, a.attemptId.replace(/[^A-Za-z0-9._-]/g, '_'));
    const files = { stdoutFile: `${base}.stdout`, stderrFile: `${base}.stderr` };
    this.spares.place(files.stdoutFile);
    this.spares.place(files.stderrFile);
    return files;
  }

  async ended(a: Assignment, files: AttemptFiles): Promise<void> {
    for (const [stream, file] of [
      ['stdout', files.stdoutFile],
      ['stderr', files.stderrFile],
    ] as const) {
      // An empty (or never written) log reads as empty on the server without a file: nothing to send.
      const size = await stat(file).then(
        (st) => st.size,
        () => 0,
      );
      if (size === 0) {
        // Kept for a later attempt's log, or removed: this host keeps nothing else of a finished attempt.
        if (!this.spares.retire(file)) await rm(file, { force: true });
        continue;
      }
      await this.client.putLog(
        a.attemptId,
        stream,
        () => Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>,
      );
      // The server has it now; this host keeps nothing of a finished attempt.
      await rm(file, { force: true });
    }
  }
}

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const host = o.hostname ?? osHostname();
  const workerId = agentWorkerId(host, o.workDir, o.clusterId);
  const client = new WorkerClient({ endpoint: o.server, workerToken: o.token }, o.clusterId);
  const runnerOptions: RunnerOptions = {
    workRoot: path.join(o.workDir, 'work'),
    blobs: new RemoteBlobStore(client),
    workerId,
    sandbox: o.sandbox,
    sandboxUidBase: o.sandboxUidBase ?? agentUidBase(workerId),
    ...(o.sandboxUidCount !== undefined ? { sandboxUidCount: o.sandboxUidCount } : {}),
    imageCacheDir: path.join(o.workDir, 'images'),
  };
  const runner = new Runner(runnerOptions);
  if (o.sandbox !== 'off') {
    const status = await runner.prepare();
    if (!status.ok) {
      await runner.close();
      throw new Error(
        `the sandbox does not work on this machine: ${status.reason}. Fix that, or start with --sandbox off`,
      );
    }
  }
  const loop = new WorkerLoop(
    httpLink(client, o.log),
    runner,
    new RemoteAttemptLogs(client, path.join(o.workDir, 'logs')),
    systemClock,
    o.log,
    {
      workerId,
      clusterId: o.clusterId,
      groupName: o.group,
      hostname: host,
      slots: o.slots,
      heartbeatMs: o.heartbeatMs ?? 2_000,
      pollMs: o.pollMs ?? 1_000,
      // One attempt claimed ahead hides the round trip to the server between two commands.
      prefetch: 1,
    },
  );
  await loop.start();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await loop.stop();
      await runner.close();
    })());
  return {
    workerId,
    drain: async () => {
      await loop.drain();
      await stop();
    },
    stop,
  };
}
