/**
 * Progress output. On a terminal: a bar redrawn in place with loss, metric and samples/s.
 * Elsewhere (CI, pipes, files): no redraws, one plain line per finished epoch.
 */

/** Where progress goes. */
export interface ProgressSink {
  write(text: string): void;
  /** True when the output is a terminal that understands carriage return. */
  isTTY: boolean;
}

/** Reports the batches of one epoch. */
export class EpochProgress {
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
  ) {}

  /** After each batch: `done` of `total` batches, running loss and metric, throughput. */
  update(done: number, loss: number, metric: string, samplesPerSec: number): void {
    if (!this.sink.isTTY) return;
    const now = Date.now();
    if (done < this.total && now - this.lastDraw < 80) return; // redraw at most ~12 times a second
    this.lastDraw = now;
    const width = 24;
    const filled = Math.round((done / this.total) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const eta =
      done < this.total
        ? `  ETA ${formatSeconds(((now - this.started) / 1000 / done) * (this.total - done))}`
        : '';
    this.sink.write(
      `\r\x1b[2K${this.label} ${bar} ${done}/${this.total}  loss ${loss.toFixed(4)}  ${metric}  ${Math.round(samplesPerSec)} samples/s${eta}`,
    );
  }

  /** The epoch's summary line replaces the bar (or is printed alone off a terminal). */
  finish(summary: string): void {
    this.sink.write(`${this.sink.isTTY ? '\r\x1b[2K' : ''}${summary}\n`);
  }
}

/** `42s`, `3m05s`, `1h02m`: short enough for a progress line. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
