/** What is recorded per epoch, and the summary printed at the end. */

/** Metrics of one epoch of one run. */
export interface EpochRecord {
  run: string;
  epoch: number;
  lr: number;
  trainLoss: number;
  /** Accuracy in [0, 1] for classifiers; R² for regression. */
  trainMetric: number;
  testLoss: number;
  testMetric: number;
  seconds: number;
  samplesPerSec: number;
}

/**
 * What the end of a run prints, one line per run: the last epoch's numbers and the best test
 * metric. Every epoch already has its own line as it finishes, so the epochs are not repeated.
 */
export function runSummary(history: EpochRecord[], metricName: string): string {
  const pct = metricName === 'accuracy';
  const fmt = (v: number) => (pct ? `${(v * 100).toFixed(2)}%` : v.toFixed(4));
  const short = pct ? 'acc' : metricName;
  const runs = [...new Set(history.map((h) => h.run))];
  return runs
    .map((run) => {
      const mine = history.filter((h) => h.run === run);
      const last = mine[mine.length - 1];
      const best = mine.reduce((a, b) => (b.testMetric > a.testMetric ? b : a));
      const seconds = mine.reduce((n, h) => n + h.seconds, 0);
      const samples = mine.reduce((n, h) => n + h.samplesPerSec * h.seconds, 0);
      return (
        `${runs.length > 1 ? `${run}: ` : ''}after ${last.epoch} epochs: train loss ${last.trainLoss.toFixed(4)} ${short} ${fmt(last.trainMetric)}` +
        `  | test loss ${last.testLoss.toFixed(4)} ${short} ${fmt(last.testMetric)}` +
        `  | best test ${short} ${fmt(best.testMetric)} (epoch ${best.epoch})` +
        `  | ${seconds.toFixed(1)}s training, ${Math.round(samples / Math.max(seconds, 1e-9))} samples/s`
      );
    })
    .join('\n');
}
