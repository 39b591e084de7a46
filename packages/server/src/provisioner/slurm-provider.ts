/**
 * The `slurm` provider: an existing Slurm cluster runs the work of Shoal clusters whose Provider is
 * `slurm`. For each group of such a cluster the server runs a dispatcher: a worker of the cluster (one
 * scheduler path, the same claims and leases as any agent) that claims attempts and hands them to Slurm
 * instead of running them. Attempts of one task claimed together become one job array,
 * `sbatch --array=<instance ids>%<DesiredVMCount>`, each element running one instance through the agent's
 * runner (slurm-element.ts); the element reports its own result.
 *
 * Every round the dispatcher asks Slurm how its elements are (squeue), then the store which attempts it
 * still holds, in that order: an element Slurm shows as ended has exited, so its report, if any, is in.
 * Ended without a report: node failure, preemption and boot failure re-queue the attempt without
 * consuming a retry; anything else (cancelled outside Shoal, timed out, failed) fails it as
 * `SlurmFailure` with Slurm's state and reason, and MaxRetryCount applies. An element pending for a reason
 * Slurm never gets past is cancelled and fails the same way. Attempts no longer held (the job was
 * stopped) have their elements cancelled. On start a dispatcher cancels what an earlier run of the server
 * left in Slurm under its name, and re-registers, which re-queues those attempts.
 * One server per store should run slurm clusters, as with local ones.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Assignment, AttemptResult, ClusterRecord, InstanceTypeSpec, Store } from '@shoal/core';
import { groupInstanceType, LOCAL_INSTANCE_TYPE, MAX_EXCHANGE, notRunResult, systemClock } from '@shoal/core';
import type { Logger } from 'pino';
import type { WorkerGateway } from '../scheduler/gateway.js';
import { activeClustersOf } from './provider-clusters.js';
import { Rounds } from './rounds.js';
import type { ServiceTokens } from './service-tokens.js';
import type { ElementState, SlurmSettings } from './slurm-commands.js';
import {
  cancel,
  cancelNamed,
  elementStates,
  ENDED_STATES,
  MACHINE_LOST_STATES,
  NEVER_STARTS,
  submitArray,
} from './slurm-commands.js';

export interface SlurmProviderOptions extends SlurmSettings {
  readonly url: string;
  readonly dataDir: string;
  readonly sandbox: 'bwrap' | 'off';
  /** The uids array elements on a node lease theirs from. */
  readonly sandboxUidBase: number;
  readonly sandboxUidCount: number;
  readonly catalog: readonly InstanceTypeSpec[];
  readonly intervalMs: number;
  /** Attempts a dispatcher holds beyond its running cap, queued in Slurm (one array per task). */
  readonly backlog: number;
  /** Where elements work on their node; must exist (or be creatable) on every Slurm node. */
  readonly nodeWorkDir: string;
}

interface Element {
  readonly arrayJobId: string;
  /** Its index in the array (dense, 0..n-1; SLURM_ARRAY_TASK_ID), which the element maps to its attempt. */
  readonly index: number;
}

interface Dispatcher {
  readonly clusterId: string;
  readonly group: string;
  readonly workerId: string;
  /** attemptId -> its element. */
  readonly elements: Map<string, Element>;
  /** Results found by reconciling, reported with the next exchange. */
  pending: AttemptResult[];
  registered: boolean;
}

/** A dispatcher's worker id: stable per cluster and group, so a restarted server takes its work back. */
export function dispatcherId(clusterId: string, group: string): string {
  const seed = ['slurm', clusterId, group].join('\u0000');
  return `i-${createHash('sha1').update(seed).digest('hex').slice(0, 20)}`;
}

function slurmName(d: Dispatcher): string {
  return `shoal.${d.workerId}`;
}

export class SlurmProvider {
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly rounds: Rounds;
  failures = 0;

  constructor(
    private readonly store: Store,
    private readonly gateway: WorkerGateway,
    private readonly tokens: ServiceTokens,
    private readonly log: Logger,
    private readonly options: SlurmProviderOptions,
  ) {
    this.rounds = new Rounds(() => this.round(), options.intervalMs);
  }

  start(): void {
    this.gateway.signals.on('work', this.onWork);
    this.gateway.signals.on('cancel', this.onWork);
    this.rounds.start();
  }

  private readonly onWork = () => this.rounds.kick();

  /** Runs a round soon (work was queued, a job stopped, a cluster changed). */
  kick(): void {
    this.rounds.kick();
  }

  /** Attempts the dispatchers have in Slurm, for tests. */
  inSlurm(clusterId: string): number {
    let n = 0;
    for (const d of this.dispatchers.values()) if (d.clusterId === clusterId) n += d.elements.size;
    return n;
  }

  /**
   * Stops dispatching. Elements keep running in Slurm and report to the server while it lives; a server
   * started again cancels them and runs their attempts anew.
   */
  async stop(): Promise<void> {
    this.gateway.signals.off('work', this.onWork);
    this.gateway.signals.off('cancel', this.onWork);
    await this.rounds.stop();
  }

  private async round(): Promise<void> {
    try {
      const clusters = await activeClustersOf(this.store, 'slurm');
      const wanted = new Map<string, { cluster: ClusterRecord; group: string; cap: number }>();
      for (const cluster of clusters)
        for (const [group, g] of Object.entries(cluster.groups))
          wanted.set(dispatcherId(cluster.id, group), { cluster, group, cap: g.desiredVMCount });
      for (const [workerId, want] of wanted)
        if (!this.dispatchers.has(workerId))
          this.dispatchers.set(workerId, {
            clusterId: want.cluster.id,
            group: want.group,
            workerId,
            elements: new Map(),
            pending: [],
            registered: false,
          });
      for (const d of this.dispatchers.values()) {
        const want = wanted.get(d.workerId);
        // One dispatcher's failure (its Slurm command, its database call) must not stop the others.
        try {
          await this.dispatch(d, want?.cluster, want?.cap ?? 0);
        } catch (err) {
          this.failures++;
          this.log.error({ err, clusterId: d.clusterId, group: d.group }, 'slurm dispatcher round failed');
        }
        // A dispatcher of a deleted cluster (or group) lives until its last element is settled.
        if (!want && d.elements.size === 0 && d.pending.length === 0) this.dispatchers.delete(d.workerId);
      }
    } catch (err) {
      this.failures++;
      this.log.error({ err, failures: this.failures }, 'slurm provider round failed');
    }
  }

  private async dispatch(d: Dispatcher, cluster: ClusterRecord | undefined, cap: number): Promise<void> {
    if (!d.registered) {
      if (!cluster) return;
      await cancelNamed(this.options, slurmName(d));
      await this.gateway.register({
        workerId: d.workerId,
        clusterId: d.clusterId,
        groupName: d.group,
        hostname: 'slurm',
        slots: Math.max(1, cap + this.options.backlog),
      });
      d.registered = true;
    }
    await this.reconcile(d);
    if (!d.registered) return;
    const want = cluster && cap > 0 ? cap + this.options.backlog - d.elements.size : 0;
    const results = d.pending;
    d.pending = [];
    let assignments: Assignment[];
    try {
      assignments = await this.gateway.exchange(
        d.workerId,
        results,
        Math.min(MAX_EXCHANGE, Math.max(0, want)),
      );
    } catch (err) {
      d.pending = results.concat(d.pending);
      throw err;
    }
    if (assignments.length && cluster) await this.submit(d, cluster, cap, assignments);
  }

  /** Settles elements Slurm ended without a report, cancels those whose attempt is no longer held. */
  private async reconcile(d: Dispatcher): Promise<void> {
    // Leases first, before any Slurm command that may be slow: only attempts that are in Slurm or
    // waiting to be reported; one the dispatcher lost track of runs out and is re-queued.
    const beat = await this.gateway.heartbeat(d.workerId, [
      ...d.elements.keys(),
      ...d.pending.map((r) => r.attemptId),
    ]);
    if (beat.drain) {
      // Its worker was deleted (dci) or the cluster is going: start over as a restarted server would,
      // cancelling what it has in Slurm; the registration re-queues those attempts.
      d.registered = false;
      d.elements.clear();
      d.pending = [];
      return;
    }
    if (d.elements.size === 0) return;
    const arrays = [...new Set([...d.elements.values()].map((e) => e.arrayJobId))];
    const states = new Map<string, ElementState>();
    for (const s of await elementStates(this.options, arrays)) states.set(`${s.arrayJobId}_${s.index}`, s);
    const held = new Set((await this.store.listHeldAttempts(d.workerId)).map((a) => a.attemptId));
    const toCancel: string[] = [];
    const lost: { attemptId: string; reason: string }[] = [];
    for (const [attemptId, element] of d.elements) {
      const key = `${element.arrayJobId}_${element.index}`;
      const s = states.get(key);
      const ended = !s || ENDED_STATES.has(s.state);
      if (!held.has(attemptId)) {
        // Reported by its element, or stopped: nothing of it may keep running.
        if (!ended) toCancel.push(key);
        d.elements.delete(attemptId);
        void this.dropOutput(d, key);
        continue;
      }
      if (!s) {
        d.pending.push(slurmFailure(attemptId, `Slurm no longer knows array element ${key}`, ''));
      } else if (MACHINE_LOST_STATES.has(s.state)) {
        lost.push({ attemptId, reason: `Slurm array element ${key} ended ${s.state} (${s.reason})` });
      } else if (ended) {
        d.pending.push(
          slurmFailure(
            attemptId,
            `Slurm array element ${key} ended ${s.state} (${s.reason}) without a result`,
            await this.outputTail(d, key),
          ),
        );
      } else if (s.state === 'PENDING' && NEVER_STARTS.has(s.reason)) {
        toCancel.push(key);
        d.pending.push(
          slurmFailure(attemptId, `Slurm will never start array element ${key}: ${s.reason}`, ''),
        );
      } else continue;
      d.elements.delete(attemptId);
      void this.dropOutput(d, key);
    }
    if (toCancel.length) await cancel(this.options, toCancel);
    if (lost.length) {
      for (const { attemptId, reason } of lost) await this.gateway.release(d.workerId, [attemptId], reason);
      this.log.warn({ clusterId: d.clusterId, lost: lost.length }, 'slurm lost array elements; re-queued');
    }
  }

  private async submit(
    d: Dispatcher,
    cluster: ClusterRecord,
    cap: number,
    assignments: readonly Assignment[],
  ): Promise<void> {
    const byTask = new Map<string, Assignment[]>();
    for (const a of assignments) {
      const key = `${a.jobId}\u0000${a.taskName}`;
      byTask.set(key, [...(byTask.get(key) ?? []), a]);
    }
    const type = this.instanceType(cluster, d.group);
    const outputDir = join(this.options.dataDir, 'slurm', d.workerId);
    let token: string;
    try {
      await mkdir(outputDir, { recursive: true });
      token = await this.tokens.of(d.clusterId);
    } catch (err) {
      // Nothing reached Slurm: the attempts go back to the queue, not charged.
      await this.gateway.release(
        d.workerId,
        assignments.map((a) => a.attemptId),
        `the Slurm dispatcher could not submit: ${errorText(err)}`,
      );
      throw err;
    }
    for (const group of byTask.values()) {
      const first = group[0]!;
      const config = {
        server: this.options.url,
        token,
        clusterId: d.clusterId,
        workerId: d.workerId,
        jobId: first.jobId,
        taskName: first.taskName,
        // Array index i runs instance elements[i][0], attempt elements[i][1]: a stale element (its attempt
        // re-queued and claimed again) finds no attempt of its own and runs nothing.
        elements: group.map((a) => [a.instanceId, a.attemptNo]),
        workDir: this.options.nodeWorkDir,
        sandbox: this.options.sandbox,
        sandboxUidBase: this.options.sandboxUidBase,
        sandboxUidCount: this.options.sandboxUidCount,
      };
      try {
        const arrayJobId = await submitArray(this.options, {
          name: slurmName(d),
          size: group.length,
          cap,
          cpus: Math.ceil(type.cpuCores),
          memoryMb: Math.ceil(type.memoryBytes / 2 ** 20),
          output: join(outputDir, '%A_%a.log'),
          argv: [process.execPath, fileURLToPath(import.meta.resolve('@shoal/agent/slurm-element'))],
          env: { SHOAL_SLURM_ELEMENT: JSON.stringify(config) },
        });
        group.forEach((a, index) => d.elements.set(a.attemptId, { arrayJobId, index }));
        this.log.info(
          {
            clusterId: d.clusterId,
            jobId: first.jobId,
            task: first.taskName,
            arrayJobId,
            elements: group.length,
          },
          'submitted a slurm array',
        );
      } catch (err) {
        if (SLURM_UNREACHABLE.test(errorText(err))) {
          // Slurm did not answer: not the task's fault, the attempts run again later, not charged.
          await this.gateway.release(
            d.workerId,
            group.map((a) => a.attemptId),
            `Slurm did not answer sbatch: ${errorText(err)}`,
          );
          this.log.warn({ clusterId: d.clusterId, err }, 'sbatch could not reach Slurm; re-queued');
          continue;
        }
        // sbatch refused it (no such partition, more CPUs or memory than any node has): it never starts.
        const message = `sbatch refused the array: ${errorText(err)}`;
        for (const a of group) d.pending.push(slurmFailure(a.attemptId, message, ''));
        this.log.warn({ clusterId: d.clusterId, err }, 'sbatch refused an array');
      }
    }
  }

  private instanceType(cluster: ClusterRecord, group: string): InstanceTypeSpec {
    const name = groupInstanceType(cluster, group) || LOCAL_INSTANCE_TYPE;
    return (
      this.options.catalog.find((t) => t.name === name) ??
      this.options.catalog.find((t) => t.name === LOCAL_INSTANCE_TYPE)!
    );
  }

  private outputFile(d: Dispatcher, key: string): string {
    return join(this.options.dataDir, 'slurm', d.workerId, `${key}.log`);
  }

  /** The last lines an element printed itself (why it failed), if its output reached this host. */
  private async outputTail(d: Dispatcher, key: string): Promise<string> {
    const text = await readFile(this.outputFile(d, key), 'utf8').catch(() => '');
    return text.slice(-2000);
  }

  private async dropOutput(d: Dispatcher, key: string): Promise<void> {
    await rm(this.outputFile(d, key), { force: true });
  }
}

/** sbatch failures that say Slurm was not reached, rather than that it refused the array. */
const SLURM_UNREACHABLE =
  /Unable to contact slurm controller|Connection refused|Socket timed out|timed out|ETIMEDOUT|ENOENT|Zero Bytes were transmitted/i;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function slurmFailure(attemptId: string, message: string, detail: string): AttemptResult {
  return notRunResult(attemptId, 'SlurmFailure', message, systemClock.nowUs(), detail);
}
