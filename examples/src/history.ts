/** What is recorded per epoch, and the table printed at the end. */

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

/** Fixed-width table of the epochs, one row per epoch and run. */
export function epochTable(history: EpochRecord[], metricName: string): string {
  const showRun = new Set(history.map((h) => h.run)).size > 1;
  const pct = metricName === 'accuracy';
  const fmt = (v: number) => (pct ? `${(v * 100).toFixed(2)}%` : v.toFixed(4));
  const head = [
    ...(showRun ? ['run'] : []),
    'epoch',
    'lr',
    'train loss',
    `train ${metricName}`,
    'test loss',
    `test ${metricName}`,
    'time',
    'samples/s',
  ];
  const rows = history.map((h) => [
    ...(showRun ? [h.run] : []),
    String(h.epoch),
    h.lr.toPrecision(3),
    h.trainLoss.toFixed(4),
    fmt(h.trainMetric),
    h.testLoss.toFixed(4),
    fmt(h.testMetric),
    `${h.seconds.toFixed(2)}s`,
    Math.round(h.samplesPerSec).toString(),
  ]);
  const widths = head.map((t, i) => Math.max(t.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
