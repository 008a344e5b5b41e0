/**
 * The loss and accuracy charts, drawn with uPlot: a title, labelled axes with ticks and a
 * grid, and a legend. The x axis spans the whole run from the start (the lines grow into
 * it); accuracy is on a fixed 0–100 % scale so progress near the top stays readable.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { EpochStats } from './trainer.js';

/** One line of a chart: its legend label, colour and the value it takes from an epoch. */
interface Line {
  label: string;
  color: string;
  dash?: number[];
  value: (s: EpochStats) => number;
}

/** What differs between the two charts. */
interface ChartSpec {
  title: string;
  yLabel: string;
  lines: Line[];
  y: uPlot.Scale;
  yValues?: uPlot.Axis.Values;
  yIncrs?: number[];
  /** A legend is only worth its height when there is more than one line. */
  legend: boolean;
}

const HEIGHT = 190;
const INK = '#5f6368';
const GRID = '#eceff1';
const FONT = '12px system-ui, sans-serif';
const LABEL_FONT = '600 12px system-ui, sans-serif';

/** Axis styling shared by x and y. */
const axisStyle = {
  stroke: INK,
  font: FONT,
  labelFont: LABEL_FONT,
  grid: { stroke: GRID, width: 1 },
  ticks: { stroke: '#dadce0', width: 1, size: 4 },
  labelSize: 18,
  labelGap: 2,
} satisfies uPlot.Axis;

/** A uPlot chart of per-epoch values that follows its host element's width. */
class EpochChart {
  private readonly plot: uPlot;
  private readonly lines: Line[];
  private epochs = 1;

  constructor(
    private readonly host: HTMLElement,
    spec: ChartSpec,
  ) {
    this.lines = spec.lines;
    // The canvas says nothing to a screen reader; the description names what is plotted against what.
    host.setAttribute('role', 'img');
    host.setAttribute('aria-label', `${spec.title}: x axis epoch, y axis ${spec.yLabel}`);
    this.plot = new uPlot(
      {
        title: spec.title,
        width: this.width(),
        height: HEIGHT,
        // The x range is the planned run, not the data so far, so the lines do not stretch each epoch.
        scales: { x: { time: false, range: () => [1, Math.max(2, this.epochs)] }, y: spec.y },
        series: [
          { label: 'epoch' },
          ...spec.lines.map((l) => ({
            label: l.label,
            stroke: l.color,
            width: 2,
            dash: l.dash,
            points: { size: 5 },
          })),
        ],
        axes: [
          // Whole epochs only: a tick at 2.5 epochs would mean nothing.
          { ...axisStyle, label: 'epoch', size: 28, incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500] },
          { ...axisStyle, label: spec.yLabel, size: 48, values: spec.yValues, incrs: spec.yIncrs },
        ],
        // Values on hover would be '--' at rest; the stats above the charts show the latest epoch.
        legend: { show: spec.legend, live: false },
        cursor: { drag: { x: false, y: false } },
      },
      this.emptyData(),
      host,
    );
    // The host's width comes from the page grid (never from the chart), so resizing cannot loop.
    new ResizeObserver(() => {
      const width = this.width();
      if (width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
    }).observe(host);
  }

  /** Clears the lines and sets the x axis to `1..epochs`. */
  reset(epochs: number): void {
    this.epochs = epochs;
    this.host.dataset.points = '0';
    this.plot.setData(this.emptyData());
  }

  /** Plots the epochs so far. */
  show(history: readonly EpochStats[]): void {
    this.epochs = Math.max(this.epochs, history.length);
    this.host.dataset.points = String(history.length);
    this.plot.setData([history.map((s) => s.epoch), ...this.lines.map((l) => history.map(l.value))]);
  }

  private emptyData(): uPlot.AlignedData {
    return [[], ...this.lines.map(() => [])];
  }

  private width(): number {
    return Math.max(240, Math.floor(this.host.clientWidth));
  }
}

/** The playground's two charts: training loss (log scale) and train/test accuracy in %. */
export class TrainingCharts {
  private readonly charts: EpochChart[];

  constructor(lossHost: HTMLElement, accuracyHost: HTMLElement) {
    this.charts = [
      new EpochChart(lossHost, {
        title: 'Training loss',
        yLabel: 'cross-entropy loss (log)',
        // Log scale: the loss falls by orders of magnitude, and the late epochs matter too.
        y: { distr: 3, log: 10 },
        lines: [{ label: 'train loss', color: '#c5221f', value: (s) => s.loss }],
        legend: false,
      }),
      new EpochChart(accuracyHost, {
        title: 'Accuracy',
        yLabel: 'accuracy (%)',
        y: { range: [0, 100] },
        yIncrs: [10, 20, 25, 50],
        yValues: (_u, splits) => splits.map((v) => `${v}%`),
        lines: [
          { label: 'train', color: '#1a73e8', dash: [6, 4], value: (s) => 100 * s.trainAccuracy },
          { label: 'test', color: '#188038', value: (s) => 100 * s.testAccuracy },
        ],
        legend: true,
      }),
    ];
  }

  reset(epochs: number): void {
    for (const c of this.charts) c.reset(epochs);
  }

  show(history: readonly EpochStats[]): void {
    for (const c of this.charts) c.show(history);
  }
}
