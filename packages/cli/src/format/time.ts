/**
 * Human times for tables: "5m ago" for instants, "1h02m" for durations. Inputs are the API's
 * ISO-8601 strings ('' = unset); `nowMs` is passed in so output is testable.
 */

function parseMs(iso: string): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `12s ago`, `5m ago`, `3h ago`, `2d ago`; '-' when unset. */
export function relativeTime(iso: string, nowMs: number): string {
  const ms = parseMs(iso);
  if (ms === undefined) return '-';
  const seconds = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

/** `45s`, `3m05s`, `1h02m`, `2d03h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${pad(Math.floor((s % 86400) / 3600))}h`;
}

/** Time from start to end (or to now while running); '-' before the start. */
export function elapsed(startIso: string, endIso: string, nowMs: number): string {
  const start = parseMs(startIso);
  if (start === undefined) return '-';
  return formatDuration((parseMs(endIso) ?? nowMs) - start);
}

/** The local date and time of an instant, `2024-05-01 13:04:05`; '-' when unset. */
export function localTime(iso: string): string {
  const ms = parseMs(iso);
  if (ms === undefined) return '-';
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
