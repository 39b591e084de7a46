/**
 * Time: stored as integer microseconds since the epoch (the wire format carries microseconds), formatted
 * as `2016-11-01T15:25:02.837728Z`. An injected Clock keeps time-dependent logic testable.
 */
export interface Clock {
  nowUs(): number;
}

let lastUs = 0;

/**
 * Wall clock with microsecond resolution, strictly increasing within the process. The monotonic clock
 * gives the microseconds but does not follow clock steps or suspends, so it is used only while it agrees
 * with Date.now() to within two milliseconds; otherwise the wall clock wins (the signature skew check and
 * stored times must follow real time).
 */
export const systemClock: Clock = {
  nowUs() {
    const wallUs = Date.now() * 1000;
    const monoUs = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const us = Math.abs(monoUs - wallUs) < 2000 ? monoUs : wallUs;
    lastUs = us > lastUs ? us : lastUs + 1;
    return lastUs;
  },
};

/** Formats microseconds as the API's time string; 0/null/undefined -> '' (unset). */
export function formatTime(us: number | null | undefined): string {
  if (!us) return '';
  const ms = Math.floor(us / 1000);
  const micro = String(Math.floor(us % 1_000_000)).padStart(6, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${micro}Z`;
}

export function parseTime(text: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(text);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(seconds)) return undefined;
  return seconds * 1000 + Number((m[2] ?? '').padEnd(6, '0'));
}
