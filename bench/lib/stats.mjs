/**
 * Summaries of measured samples. Percentiles use the nearest-rank method, so every reported figure is a
 * value that was actually measured (p99 of 200 samples is the 198th smallest).
 */

/** @param {number[]} sorted ascending; @param {number} q in (0, 1] */
function nearestRank(sorted, q) {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}

/** @param {number[]} values */
export function percentile(values, q) {
  if (values.length === 0) throw new Error('percentile of no samples');
  return nearestRank(
    [...values].sort((a, b) => a - b),
    q,
  );
}

/** The middle value (mean of the two middle ones for an even count). @param {number[]} values */
export function median(values) {
  if (values.length === 0) throw new Error('median of no samples');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * n, min, mean, p50, p99 and max of the samples.
 * @param {number[]} values
 */
export function summarize(values) {
  if (values.length === 0) throw new Error('summary of no samples');
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0],
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
    p50: nearestRank(sorted, 0.5),
    p99: nearestRank(sorted, 0.99),
    max: sorted[sorted.length - 1],
  };
}

/** Fixed decimals for tables; @param {number} value @param {number} digits */
export function fixed(value, digits = 1) {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}
