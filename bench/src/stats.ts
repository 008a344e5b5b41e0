/** Summary statistics of per-iteration times. */

/** The statistics the spec asks for, in milliseconds. */
export interface Stats {
  readonly median_ms: number;
  readonly min_ms: number;
  readonly p90_ms: number;
  readonly mean_ms: number;
  readonly n: number;
}

/** Linear-interpolated quantile (NumPy's default) of an ascending array. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of an empty sample');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median, min, p90 and mean of samples in ms. */
export function summarize(samples: readonly number[]): Stats {
  if (samples.length === 0) throw new Error('no samples to summarize');
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median_ms: quantile(sorted, 0.5),
    min_ms: sorted[0],
    p90_ms: quantile(sorted, 0.9),
    mean_ms: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    n: sorted.length,
  };
}
