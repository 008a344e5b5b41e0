/**
 * The PNGs as a viewer sees them: each SVG rasterised by resvg with the bundled font, decoded
 * here pixel by pixel. The legend must cover no data, and the title and axis labels must be drawn.
 */
import { describe, expect, it } from 'vitest';
import { boundaryPng } from '../src/plot/boundary.js';
import { type ChartSpec, chartPng, chartSvg } from '../src/plot/chart.js';
import { hexToRgb, PALETTE } from '../src/plot/colors.js';
import { legendBox } from './chart-svg.js';
import { type DecodedPng, decodePng } from './png-decode.js';

const SCALE = 2; // svgToPng's default: 2 pixels per SVG unit

const pixel = (png: DecodedPng, x: number, y: number) => {
  const i = (y * png.width + x) * 4;
  return [png.rgba[i], png.rgba[i + 1], png.rgba[i + 2]];
};
/** Grey or white: what text, the box, its border and the grid leave; a curve under the box tints it. */
const isGrey = ([r, g, b]: number[]) => Math.max(r, g, b) - Math.min(r, g, b) < 8;
const near = (a: number[], b: number[], tolerance = 12) => a.every((v, i) => Math.abs(v - b[i]) <= tolerance);

/** Pixels (in PNG coordinates) inside an SVG-unit rectangle for which `test` holds. */
function count(
  png: DecodedPng,
  box: { x: number; y: number; w: number; h: number },
  test: (rgb: number[], x: number, y: number) => boolean,
): number {
  let n = 0;
  for (let y = Math.ceil(box.y * SCALE); y < Math.floor((box.y + box.h) * SCALE); y++)
    for (let x = Math.ceil(box.x * SCALE); x < Math.floor((box.x + box.w) * SCALE); x++)
      if (test(pixel(png, x, y), x / SCALE, y / SCALE)) n++;
  return n;
}

const rising = Array.from({ length: 20 }, (_, i) => 0.5 + i * 0.025);
const accuracy: ChartSpec = {
  title: 'spirals: accuracy',
  xLabel: 'epoch',
  yLabel: 'accuracy',
  series: [
    { name: 'train accuracy', y: rising },
    { name: 'test accuracy', y: rising.map((v) => v - 0.03) },
  ],
};

describe('rendered PNG charts', () => {
  it('are the SVG rasterised at twice its size', async () => {
    const png = decodePng(await chartPng(accuracy));
    expect([png.width, png.height]).toEqual([640 * SCALE, 400 * SCALE]);
  });

  it('draw the legend where no curve passes under it', async () => {
    const svg = chartSvg(accuracy);
    const box = legendBox(svg);
    const png = decodePng(await chartPng(accuracy));
    // Inside the box, only the colour swatches may be coloured (each 14x10 at x+8, y+8+18i).
    const swatch = (x: number, y: number) =>
      x >= box.x + 7 &&
      x <= box.x + 23 &&
      [0, 1].some((i) => y >= box.y + 7 + i * 18 && y <= box.y + 19 + i * 18);
    expect(count(png, box, (rgb, x, y) => !swatch(x, y) && !isGrey(rgb))).toBe(0);
    // The same check finds the curve where it is: a box of that size at the last epoch's point.
    const onCurve = { ...box, x: 640 - 20 - box.w, y: 40 };
    expect(count(png, onCurve, (rgb) => !isGrey(rgb))).toBeGreaterThan(100);
  });

  it('draw the title and both axis labels in the font', async () => {
    const blank = decodePng(await chartPng({ ...accuracy, title: '', xLabel: '', yLabel: '' }));
    const labelled = decodePng(await chartPng(accuracy));
    const differs = (box: { x: number; y: number; w: number; h: number }) =>
      count(labelled, box, (rgb, x, y) => !near(rgb, pixel(blank, x * SCALE, y * SCALE), 0));
    expect(differs({ x: 200, y: 0, w: 240, h: 32 })).toBeGreaterThan(200); // title
    expect(differs({ x: 0, y: 120, w: 26, h: 160 })).toBeGreaterThan(200); // y label, rotated
    expect(differs({ x: 250, y: 372, w: 140, h: 28 })).toBeGreaterThan(100); // x label
  });

  it('show a one-epoch run as points, not an empty plot', async () => {
    const png = decodePng(
      await chartPng({
        title: 'regression: R²',
        xLabel: 'epoch',
        yLabel: 'R²',
        series: [
          { name: 'train R²', y: [0.7] },
          { name: 'test R²', y: [0.6] },
        ],
      }),
    );
    const plot = { x: 71, y: 41, w: 548, h: 308 };
    for (const colour of [PALETTE[0], PALETTE[1]])
      expect(count(png, plot, (rgb) => near(rgb, hexToRgb(colour), 2))).toBeGreaterThan(80);
  });

  it('draw the decision boundary with its classes in a legend, ticks and labels', async () => {
    const grid = new Int32Array([0, 1, 2, 0]);
    const spec = {
      grid,
      gridWidth: 2,
      gridHeight: 2,
      xRange: [-1, 1] as [number, number],
      yRange: [-1, 1] as [number, number],
      points: [0, 1, 2].map((label) => ({ x: label / 2 - 0.5, y: 0.5, label })),
    };
    const png = decodePng(await boundaryPng(spec, 'spirals: decision boundary'));
    const plot = { x: 58, y: 62, w: 440, h: 440 };
    // Region tints differ by cell; the top-left and bottom-right cells are both class 0.
    const at = (x: number, y: number) => pixel(png, (plot.x + x) * SCALE, (plot.y + y) * SCALE);
    expect(at(20, 20)).not.toEqual(at(420, 20));
    expect(at(20, 20)).toEqual(at(420, 420));
    // The legend row under the title holds each class's colour, at full strength.
    const legendRow = { x: 0, y: 36, w: 558, h: 16 };
    for (const label of [0, 1, 2])
      expect(count(png, legendRow, (rgb) => near(rgb, hexToRgb(PALETTE[label]), 2))).toBeGreaterThan(40);
    // Ink in the title and under the plot (tick numbers and the x label).
    const ink = (rgb: number[]) => rgb.every((v) => v < 128);
    expect(count(png, { x: 150, y: 0, w: 258, h: 30 }, ink)).toBeGreaterThan(100);
    expect(count(png, { x: 58, y: 504, w: 440, h: 50 }, ink)).toBeGreaterThan(100);
  });
});
