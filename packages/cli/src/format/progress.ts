/**
 * The one-line status of `shoal sub --wait`: state, task and instance counts, elapsed time.
 * Rewritten in place on a terminal, printed on change otherwise.
 */
import type { WireJob, WireMetrics } from '@shoal/core';
import { formatDuration } from './time.js';

export function metricsTotal(m: WireMetrics | undefined): number {
  if (!m) return 0;
  return m.WaitingCount + m.RunningCount + m.FinishedCount + m.FailedCount + m.StoppedCount;
}

/** `finished/total`, e.g. `2/3`. */
export function doneOfTotal(m: WireMetrics | undefined): string {
  return `${m?.FinishedCount ?? 0}/${metricsTotal(m)}`;
}

/**
 * `job-… Running  tasks 1/3  instances 2/5 (1 running, 0 failed)  12s`
 *
 * @example progressLine(job, 12_000)
 */
export function progressLine(job: WireJob, elapsedMs: number): string {
  const inst = job.InstanceMetrics;
  const extra = [`${inst?.RunningCount ?? 0} running`, `${inst?.FailedCount ?? 0} failed`];
  if (inst?.StoppedCount) extra.push(`${inst.StoppedCount} stopped`);
  return [
    `${job.Id} ${job.State}`,
    `tasks ${doneOfTotal(job.TaskMetrics)}`,
    `instances ${doneOfTotal(inst)} (${extra.join(', ')})`,
    formatDuration(elapsedMs),
  ].join('  ');
}

/** `[#####-----]`: the share of instances that ended (finished, failed or stopped). */
export function instanceBar(job: WireJob, width = 20): string {
  const m = job.InstanceMetrics;
  const total = metricsTotal(m);
  const ended = (m?.FinishedCount ?? 0) + (m?.FailedCount ?? 0) + (m?.StoppedCount ?? 0);
  const filled = total === 0 ? 0 : Math.round((ended / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Writes progress lines: in place on a TTY, else one line per change (ignoring the clock). */
export class ProgressWriter {
  private last = '';
  private lastKey = '';

  constructor(
    private readonly write: (text: string) => void,
    private readonly isTTY: boolean,
  ) {}

  update(job: WireJob, elapsedMs: number): void {
    const line = progressLine(job, elapsedMs);
    if (this.isTTY) {
      this.write(`\r\x1b[2K${instanceBar(job)} ${line}`);
      this.last = line;
      return;
    }
    const key = progressLine(job, 0);
    if (key !== this.lastKey) this.write(`${line}\n`);
    this.lastKey = key;
  }

  /** Ends the in-place line so that following output starts on a fresh line. */
  finish(): void {
    if (this.isTTY && this.last !== '') this.write('\n');
    this.last = '';
  }
}
