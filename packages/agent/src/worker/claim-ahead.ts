/**
 * How many attempts a worker claims beyond its free slots, judged by how long its attempts take.
 *
 * Short attempts (a render of a thumbnail, a /bin/true) end faster than a report and a claim go to the
 * scheduler and back, so a worker that claims one attempt per ended one spends its time in exchanges of one
 * instance each. Holding a few in hand lets one exchange report and claim many, in one transaction of a
 * handful of statements whatever their number. The price: claimed attempts are dispatched, so work of a
 * higher priority submitted later waits behind them, and they count as running for caps and quotas. So the
 * worker holds at most what its slots run within `horizonMs`, by the mean of its recent attempts; it claims
 * nothing ahead while one of its running attempts has run longer than that (the mean does not tell what it
 * runs now), and then gives back what it holds beyond its slots, unstarted (the worker loop). Of the
 * attempts it holds it starts the highest priority first, and the scheduler claims none ahead of a capped
 * task or a limited owner.
 */
export interface ClaimAheadOptions {
  /** The most work, in milliseconds of its slots' time, held claimed beyond the free slots. */
  readonly horizonMs: number;
  /** The most attempts held beyond the free slots, however short they are. */
  readonly maxAttempts: number;
}

export const DEFAULT_CLAIM_AHEAD: ClaimAheadOptions = Object.freeze({ horizonMs: 100, maxAttempts: 64 });

/** Weight of the latest attempt in the running mean: about the last twenty attempts count. */
const WEIGHT = 0.05;

export class ClaimAhead {
  /** Mean wall time of an attempt (start to end on this worker), ms; undefined until one ended. */
  private meanMs: number | undefined;

  constructor(
    private readonly slots: number,
    private readonly options: ClaimAheadOptions,
  ) {}

  /** Counts one ended attempt's wall time in. */
  ended(durationMs: number): void {
    const ms = Math.max(0, durationMs);
    this.meanMs = this.meanMs === undefined ? ms : this.meanMs + WEIGHT * (ms - this.meanMs);
  }

  /**
   * Attempts to hold claimed beyond the free slots now, given how long the oldest running attempt has run
   * (0 if none runs): none until an attempt ended, none for long ones.
   */
  attempts(oldestRunningMs: number): number {
    if (this.meanMs === undefined || this.options.maxAttempts <= 0) return 0;
    if (oldestRunningMs > this.options.horizonMs) return 0;
    const fit = Math.floor((this.options.horizonMs * this.slots) / Math.max(this.meanMs, 0.01));
    return Math.min(this.options.maxAttempts, fit);
  }
}
