/**
 * The worker loop: runs attempts on this machine, talking to the scheduler through a WorkerLink (in
 * process for the server's embedded worker, over HTTP for `shoal agent`).
 * One pump loop reports ended attempts and claims new ones in a single exchange (one transaction).
 * It keeps up to `prefetch` claimed attempts in hand, so a freed slot starts the next command at once
 * instead of waiting for a round trip to the scheduler; prefetched attempts hold leases like running ones.
 * While attempts are short it holds more (ClaimAhead), and then exchanges once half of those are used up:
 * reports and claims go in batches rather than one for one.
 */
import type { Assignment, AttemptResult, Clock } from '@shoal/core';
import { MAX_EXCHANGE, notRunResult } from '@shoal/core';
import type { Runner } from '../runner/runner.js';
import type { ClaimAheadOptions } from './claim-ahead.js';
import { ClaimAhead, DEFAULT_CLAIM_AHEAD } from './claim-ahead.js';
import type { AttemptLogs, WorkerIdentity, WorkerLink, WorkerLog } from './link.js';
import { killOrphans } from './orphans.js';

export interface WorkerLoopOptions extends WorkerIdentity {
  readonly heartbeatMs: number;
  readonly pollMs: number;
  /**
   * Claimed attempts kept ready beyond the free slots; default 0. Prefetching hides the scheduler round
   * trip between two commands, but a prefetched attempt is already dispatched: work of a higher priority
   * submitted after it waits behind it.
   */
  readonly prefetch?: number;
  /** Claiming beyond that while attempts are short (see ClaimAhead); default DEFAULT_CLAIM_AHEAD. */
  readonly claimAhead?: ClaimAheadOptions;
}

/**
 * Longest an ended attempt waits to be reported while the worker has enough in hand to go on: results
 * wait for the next claim to go with it, but an instance must not show Running for long after it ended.
 */
const REPORT_DELAY_MS = 50;

interface Running {
  readonly assignment: Assignment;
  /** performance.now() when it was launched. */
  readonly startedMs: number;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

export class WorkerLoop {
  private readonly running = new Map<string, Running>();
  private readonly abortedByStop = new Set<string>();
  /** Consecutive failed reports per attempt; a report that keeps failing is sent without its free text. */
  private readonly reportFailures = new Map<string, number>();
  /** Claimed, not yet started (waiting for a slot). */
  private ready: Assignment[] = [];
  /** Ended, with uploads not yet durable: reported once a group flush made them so. */
  private unflushed: AttemptResult[] = [];
  private flushing: Promise<void> | undefined;
  /** What the flush under way carries. */
  private flushingBatch: AttemptResult[] = [];
  /** Ended and durable: reported with the next exchange. */
  private pending: AttemptResult[] = [];
  private pumping = false;
  private again = false;
  private scheduled = false;
  private stopped = false;
  private failures = 0;
  private timers: NodeJS.Timeout[] = [];
  private unwatch: (() => void) | undefined;
  /** Asked to leave (drain): claims nothing new, finishes what it holds. */
  private draining = false;
  private drained: (() => void) | undefined;
  private readonly ahead: ClaimAhead;
  /** When the oldest result in `pending` became reportable (performance.now()). */
  private pendingSinceMs = 0;
  private reportTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: WorkerLink,
    private readonly runner: Runner,
    private readonly logs: AttemptLogs,
    private readonly clock: Clock,
    private readonly log: WorkerLog,
    private readonly options: WorkerLoopOptions,
  ) {
    this.ahead = new ClaimAhead(options.slots, options.claimAhead ?? DEFAULT_CLAIM_AHEAD);
  }

  get id(): string {
    return this.options.workerId;
  }

  async start(): Promise<void> {
    const killed = await killOrphans(this.options.workerId);
    if (killed)
      this.log.warn({ killed }, 'killed commands left running by a previous process of this worker');
    // With those gone, working directories left by the previous process belong to nobody.
    await this.runner.clearWorkRoot();
    const { requeued, leaseMs } = await this.link.register({
      workerId: this.options.workerId,
      clusterId: this.options.clusterId,
      groupName: this.options.groupName,
      hostname: this.options.hostname,
      slots: this.options.slots,
      ...(this.options.cpuMillis !== undefined ? { cpuMillis: this.options.cpuMillis } : {}),
      ...(this.options.memoryBytes !== undefined ? { memoryBytes: this.options.memoryBytes } : {}),
    });
    if (requeued.length)
      this.log.warn({ requeued: requeued.length }, 're-queued attempts cut off by a restart');
    this.unwatch = this.link.watch(this.options.workerId, {
      work: () => this.kick(),
      cancel: () => void this.heartbeat(),
    });
    this.timers.push(setInterval(() => this.kick(), this.options.pollMs));
    // Three heartbeats per lease at least: one lost or late renewal must not cost the leases.
    const beatMs = Math.max(50, Math.min(this.options.heartbeatMs, Math.floor(leaseMs / 3)));
    this.timers.push(setInterval(() => void this.heartbeat(), beatMs));
    for (const timer of this.timers) timer.unref();
    this.kick();
  }

  /**
   * Stops claiming. Running attempts are killed and not reported: they stay Running in the store and are
   * re-queued, without consuming a retry, when this worker registers again (or when their leases expire).
   * Results of attempts that ended before the stop get one last chance to be reported, and attempts held
   * unstarted are given back with them.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    // Claimed and never started: given back with the last exchange, Waiting again as if never claimed.
    const unstarted = this.ready.splice(0).map((a) => a.attemptId);
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.reportTimer);
    this.unwatch?.();
    for (const [attemptId, run] of this.running) {
      this.abortedByStop.add(attemptId);
      run.abort.abort();
    }
    await Promise.allSettled([...this.running.values()].map((run) => run.done));
    while (this.pumping) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.flushing;
    const rest = this.unflushed.splice(0);
    if (this.pending.length || rest.length || unstarted.length) {
      await this.runner
        .flushUploads()
        .then(() =>
          this.link.exchange(this.options.workerId, this.pending.concat(rest), 0, { returned: unstarted }),
        )
        .then(
          () => (this.pending = []),
          (err: unknown) =>
            this.log.error({ err }, 'could not report ended attempts while stopping; they will run again'),
        );
    }
  }

  private kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  /**
   * Whether the ended attempts in `pending` must be reported now, with no claim due: when the worker has
   * nothing else running (the end of a job must not wait), is stopping or draining, or they waited long
   * enough. Otherwise a timer makes sure they are reported in time.
   */
  private reportDue(): boolean {
    const waitedMs = performance.now() - this.pendingSinceMs;
    if (this.running.size === 0 || this.stopped || this.draining || waitedMs >= REPORT_DELAY_MS) return true;
    if (!this.reportTimer) {
      this.reportTimer = setTimeout(() => {
        this.reportTimer = undefined;
        this.kick();
      }, REPORT_DELAY_MS - waitedMs);
      this.reportTimer.unref();
    }
    return false;
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const base = this.options.slots + (this.options.prefetch ?? 0);
        // What a worker holds is what it reports and renews in one message, and messages are bounded: a
        // worker of hundreds of slots exchanges in batches anyway, and claims nothing ahead.
        const ahead = Math.min(
          this.ahead.attempts(this.oldestRunningMs()),
          Math.max(0, Math.floor(MAX_EXCHANGE / 2) - base),
        );
        const inHand = this.running.size + this.ready.length;
        // Never below 0: with attempts claimed ahead, the worker may hold more than it would claim now.
        const want = this.stopped || this.draining ? 0 : Math.max(0, base + ahead - inHand);
        // With attempts claimed ahead, claim again once half of them are used up, so claims come in batches.
        const claimNow = want > 0 && inHand <= base + Math.floor(ahead / 2);
        const returning = this.takeExcess(ahead);
        if (this.pending.length === 0 && !claimNow && returning.length === 0) break;
        if (!claimNow && returning.length === 0 && !this.reportDue()) break;
        const results = this.pending.map((r) => this.reportable(r));
        this.pending = [];
        let assignments: Assignment[];
        try {
          assignments = await this.link.exchange(this.options.workerId, results, want, {
            // Beyond the free slots: those wait here for one.
            ahead: Math.max(0, want - Math.max(0, this.options.slots - inHand)),
            returned: returning.map((a) => a.attemptId),
          });
          this.failures = 0;
          for (const r of results) this.reportFailures.delete(r.attemptId);
        } catch (err) {
          // Keep the results: they are reported with the next exchange. Back off so a failing database
          // is not hammered, and keep going (unless stopping: stop() makes the last attempt).
          this.hold(returning);
          this.pending = results.concat(this.pending);
          for (const r of results)
            this.reportFailures.set(r.attemptId, (this.reportFailures.get(r.attemptId) ?? 0) + 1);
          this.failures++;
          this.log.error({ err, failures: this.failures }, 'worker exchange failed');
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 50 * 2 ** this.failures)));
          this.again = !this.stopped;
          continue;
        }
        this.hold(assignments);
        this.fillSlots();
      } while (this.again || (this.pending.length > 0 && !this.stopped));
    } finally {
      this.pumping = false;
    }
    if (this.draining && this.idle()) this.finishDrain();
  }

  /**
   * Held attempts beyond what the worker starts soon, once its attempts turned out long (nothing is
   * claimed ahead any more: see ClaimAhead): taken out of `ready` to be given back, so they neither wait
   * here behind long work nor keep other workers (or work of a higher priority) from them.
   */
  private takeExcess(ahead: number): Assignment[] {
    if (ahead > 0) return [];
    const keep = (this.options.prefetch ?? 0) + Math.max(0, this.options.slots - this.running.size);
    return this.ready.length > keep ? this.ready.splice(keep) : [];
  }

  /** Drained: leave the cluster (so it does not list a worker that went quiet), then resolve drain(). */
  private finishDrain(): void {
    const resolve = this.drained;
    if (!resolve) return;
    this.drained = undefined;
    this.link.leave(this.options.workerId).then(resolve, (err: unknown) => {
      this.log.warn({ err }, 'could not leave the cluster after draining; it will show this worker Stopped');
      resolve();
    });
  }

  private idle(): boolean {
    return (
      this.running.size === 0 &&
      this.ready.length === 0 &&
      this.unflushed.length === 0 &&
      this.flushing === undefined &&
      this.pending.length === 0
    );
  }

  /**
   * Finishes what this worker holds (running and claimed attempts), reports it, and claims nothing new;
   * resolves once nothing is left. A worker asked to leave its cluster does the same by itself.
   */
  drain(): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      this.drained = resolve;
      if (this.idle()) this.finishDrain();
      else this.kick();
    });
  }

  /** Whether the worker is draining (asked to leave, or drain() was called). */
  get leaving(): boolean {
    return this.draining;
  }

  /**
   * A result the store refused three times in a row is sent with its free text cut down: one odd byte
   * in a command's output must not block every report of this worker behind it.
   */
  private reportable(result: AttemptResult): AttemptResult {
    if ((this.reportFailures.get(result.attemptId) ?? 0) < 3) return result;
    return {
      ...result,
      errorMessage: result.errorMessage.replace(/[^\x20-\x7e]/g, '?').slice(0, 200),
      detail: '',
    };
  }

  /**
   * Adds claimed attempts to those waiting for a slot, highest priority first and in claim order among
   * equals: work of a higher priority claimed after lower work already in hand still starts first.
   */
  private hold(assignments: readonly Assignment[]): void {
    for (const assignment of assignments) {
      const priority = assignment.priority ?? 0;
      let at = this.ready.length;
      while (at > 0 && (this.ready[at - 1]!.priority ?? 0) < priority) at--;
      this.ready.splice(at, 0, assignment);
    }
  }

  private fillSlots(): void {
    while (!this.stopped && this.running.size < this.options.slots && this.ready.length > 0) {
      if (!this.fits(this.ready[0]!)) break;
      this.launch(this.ready.shift()!);
    }
  }

  /**
   * Whether the machine has room for the attempt beside those running (when it said what it holds). The
   * scheduler judged what runs at once for claims within the free slots; attempts claimed ahead start here
   * when they fit, in the order held (smaller ones passing a larger one could keep it waiting for ever).
   */
  private fits(next: Assignment): boolean {
    const { cpuMillis, memoryBytes } = this.options;
    if (this.running.size === 0 || (cpuMillis === undefined && memoryBytes === undefined)) return true;
    let cpu = next.limits.cpuMillis;
    let memory = next.limits.memoryBytes;
    for (const { assignment } of this.running.values()) {
      cpu += assignment.limits.cpuMillis;
      memory += assignment.limits.memoryBytes;
    }
    return (
      (cpuMillis === undefined || cpu <= cpuMillis) && (memoryBytes === undefined || memory <= memoryBytes)
    );
  }

  private launch(assignment: Assignment): void {
    const abort = new AbortController();
    const startedMs = performance.now();
    const done = this.execute(assignment, abort.signal).then((result) => {
      this.running.delete(assignment.attemptId);
      this.ahead.ended(performance.now() - startedMs);
      if (this.abortedByStop.delete(assignment.attemptId)) return;
      this.unflushed.push(result);
      this.flushEnded();
      this.fillSlots();
      this.kick();
    });
    this.running.set(assignment.attemptId, { assignment, startedMs, abort, done });
  }

  /**
   * Reported Finished means stored: the uploads of ended attempts are made durable together, one group
   * flush for all that ended meanwhile, beside the claims rather than in their way (an exchange never waits
   * for a flush; attempts that end while one runs go with the next, so groups grow as flushes slow down).
   */
  private flushEnded(): void {
    if (this.flushing || this.unflushed.length === 0) return;
    const batch = this.unflushed.splice(0);
    this.flushingBatch = batch;
    this.flushing = this.runner.flushUploads().then(
      () => {
        this.flushing = undefined;
        this.flushingBatch = [];
        this.addPending(batch);
        this.kick();
        this.flushEnded();
      },
      (err: unknown) => {
        this.flushingBatch = [];
        this.unflushed.unshift(...batch);
        this.log.error({ err, attempts: batch.length }, 'could not make uploads durable; trying again');
        setTimeout(() => {
          this.flushing = undefined;
          this.flushEnded();
        }, 1000).unref();
      },
    );
  }

  /** How long the attempt launched first of those running has run, ms; 0 when none runs. */
  private oldestRunningMs(): number {
    // Map order is launch order: the first entry is the oldest.
    for (const run of this.running.values()) return performance.now() - run.startedMs;
    return 0;
  }

  private addPending(results: readonly AttemptResult[]): void {
    if (this.pending.length === 0) this.pendingSinceMs = performance.now();
    this.pending.push(...results);
  }

  /** A prefetched attempt cancelled before it started ends as Stopped without running. */
  private dropReady(attemptId: string): void {
    const index = this.ready.findIndex((a) => a.attemptId === attemptId);
    if (index < 0) return;
    this.ready.splice(index, 1);
    this.addPending([
      notRunResult(
        attemptId,
        'Stopped',
        'stopped before the command started (job stopped)',
        this.clock.nowUs(),
      ),
    ]);
    // It may have been the one at the head that did not fit: those behind it may start now.
    this.fillSlots();
    this.kick();
  }

  private async execute(assignment: Assignment, signal: AbortSignal): Promise<AttemptResult> {
    try {
      const files = await this.logs.files(assignment);
      const result = await this.runner.runAttempt(assignment, { ...files, signal });
      await this.logs.ended?.(assignment, files);
      return result;
    } catch (err) {
      // The runner reports user failures as data; reaching here is a bug or a broken machine.
      this.log.error({ err, attemptId: assignment.attemptId }, 'runner failed');
      return notRunResult(
        assignment.attemptId,
        'InternalError',
        `the worker could not run the attempt: ${err instanceof Error ? err.message : String(err)}`,
        this.clock.nowUs(),
      );
    }
  }

  private heartbeating = false;
  private heartbeatAgain = false;

  /** Renews leases and cancels what the scheduler says to; a request during a round runs another round. */
  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    if (this.heartbeating) {
      this.heartbeatAgain = true;
      return;
    }
    this.heartbeating = true;
    try {
      do {
        this.heartbeatAgain = false;
        // Attempts that ended but are not reported yet are still held: their leases must not run out.
        const held = [
          ...this.running.keys(),
          ...this.ready.map((a) => a.attemptId),
          ...this.unflushed.map((r) => r.attemptId),
          ...this.flushingBatch.map((r) => r.attemptId),
          ...this.pending.map((r) => r.attemptId),
        ];
        const reply = await this.link.heartbeat(this.options.workerId, held);
        for (const attemptId of reply.cancel) {
          this.running.get(attemptId)?.abort.abort();
          this.dropReady(attemptId);
        }
        if (reply.drain && !this.draining) {
          this.log.info({ workerId: this.options.workerId }, 'asked to leave the cluster: draining');
          void this.drain();
        }
      } while (this.heartbeatAgain && !this.stopped);
    } catch (err) {
      this.log.error({ err }, 'worker heartbeat failed');
    } finally {
      this.heartbeating = false;
    }
  }
}
