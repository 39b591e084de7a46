/**
 * The `local` provider: for every Active cluster whose Provider is `local`, the server keeps as many
 * agent processes running on its own host as each group's DesiredVMCount asks for. Each is a full
 * `shoal agent` (one slot, as a BatchCompute VM runs one instance at a time) with a worker token of its
 * cluster, its own work directory under the data dir and its own block of sandbox uids. An agent that
 * dies is started again; extra agents (DesiredVMCount lowered, cluster deleted) are drained.
 * One server per store should run local clusters: two would each start the desired count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterRecord, Store } from '@shoal/core';
import type { Logger } from 'pino';
import { activeClustersOf } from './provider-clusters.js';
import { Rounds } from './rounds.js';
import type { ServiceTokens } from './service-tokens.js';

export interface LocalProviderOptions {
  readonly url: string;
  readonly dataDir: string;
  readonly sandbox: 'bwrap' | 'off';
  /** First uid of the server's own sandboxes: agents take the blocks of 64 below it. */
  readonly sandboxUidBase: number;
  readonly intervalMs: number;
}

interface LocalAgent {
  readonly proc: ChildProcess;
  readonly clusterId: string;
  readonly group: string;
  readonly index: number;
  readonly uidBlock: number;
  draining: boolean;
}

const UID_BLOCK = 64;

export class LocalProvider {
  private readonly agents = new Set<LocalAgent>();
  private readonly rounds: Rounds;
  failures = 0;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly options: LocalProviderOptions,
    private readonly tokens: ServiceTokens,
  ) {
    this.rounds = new Rounds(() => this.reconcile(), options.intervalMs);
  }

  start(): void {
    this.rounds.start();
  }

  /** Reconciles soon (a cluster was created, resized or deleted). */
  kick(): void {
    this.rounds.kick();
  }

  /** Workers of a cluster this server runs, for tests and the bench. */
  agentsOf(clusterId: string): number {
    return [...this.agents].filter((a) => a.clusterId === clusterId && !a.draining).length;
  }

  async stop(): Promise<void> {
    await this.rounds.stop();
    const exits = [...this.agents].map(
      (a) =>
        new Promise<void>((resolve) => {
          if (a.proc.exitCode !== null || a.proc.signalCode !== null) return resolve();
          a.proc.once('exit', () => resolve());
          // Stopped, not drained: what they run is re-queued when they are started again.
          a.proc.kill('SIGINT');
          setTimeout(() => a.proc.kill('SIGKILL'), 5_000).unref();
        }),
    );
    await Promise.all(exits);
  }

  private async reconcile(): Promise<void> {
    try {
      const wanted = new Map<string, { cluster: ClusterRecord; group: string; count: number }>();
      for (const cluster of await activeClustersOf(this.store, 'local'))
        for (const [group, g] of Object.entries(cluster.groups))
          wanted.set(`${cluster.id}/${group}`, { cluster, group, count: g.desiredVMCount });
      for (const agent of this.agents) {
        const want = wanted.get(`${agent.clusterId}/${agent.group}`);
        if (!agent.draining && (!want || agent.index >= want.count)) {
          agent.draining = true;
          agent.proc.kill('SIGTERM'); // drains: finishes what it runs, takes nothing new
        }
      }
      for (const { cluster, group, count } of wanted.values()) {
        for (let index = 0; index < count; index++) {
          const live = [...this.agents].some(
            (a) => a.clusterId === cluster.id && a.group === group && a.index === index && !a.draining,
          );
          if (!live) await this.startAgent(cluster, group, index);
        }
      }
    } catch (err) {
      this.failures++;
      this.log.error({ err, failures: this.failures }, 'local provider round failed');
    }
  }

  private freeUidBlock(): number {
    const used = new Set([...this.agents].map((a) => a.uidBlock));
    let block = 1;
    while (used.has(block)) block++;
    return block;
  }

  private async startAgent(cluster: ClusterRecord, group: string, index: number): Promise<void> {
    const token = await this.tokens.of(cluster.id);
    const uidBlock = this.freeUidBlock();
    const config = {
      server: this.options.url,
      token,
      clusterId: cluster.id,
      group,
      slots: 1,
      workDir: join(this.options.dataDir, 'agents', cluster.id, `${group}-${index}`),
      sandbox: this.options.sandbox,
      sandboxUidBase: this.options.sandboxUidBase - UID_BLOCK * uidBlock,
      sandboxUidCount: UID_BLOCK,
    };
    const main = fileURLToPath(import.meta.resolve('@shoal/agent/agent-main'));
    const proc = spawn(process.execPath, [main], {
      env: { ...process.env, SHOAL_AGENT_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const agent: LocalAgent = { proc, clusterId: cluster.id, group, index, uidBlock, draining: false };
    this.agents.add(agent);
    let tail = '';
    proc.stderr!.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-2000)));
    proc.once('exit', (code, signal) => {
      this.agents.delete(agent);
      if (!agent.draining && !this.rounds.isStopped)
        this.log.warn(
          { clusterId: cluster.id, group, index, code, signal, stderr: tail },
          'a local agent exited; starting it again',
        );
    });
    this.log.info({ clusterId: cluster.id, group, index, pid: proc.pid }, 'started a local agent');
  }
}
