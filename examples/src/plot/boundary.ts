/**
 * A 2D classifier's decision regions: the predicted class on a grid, painted in light colours
 * (an embedded image: regions are pixels by nature), with the data points, axes, ticks and a
 * legend of the classes drawn as SVG. The PNG is that SVG rasterised.
 */
import { escapeXml, formatTick, niceTicks } from './chart.js';
import { hexToRgb, mix, PALETTE } from './colors.js';
import { Raster } from './raster.js';
import { type RasteriseOptions, svgToPng } from './rasterise.js';

/** The grid of predictions and the points to draw over it. */
export interface BoundarySpec {
  /** Predicted class per grid cell, row-major, row 0 at the top (largest y). */
  grid: Int32Array;
  gridWidth: number;
  gridHeight: number;
  xRange: [number, number];
  yRange: [number, number];
  points: { x: number; y: number; label: number }[];
  /** Axis labels; default `x₁` and `x₂` (the two input features). */
  xLabel?: string;
  yLabel?: string;
}

/** The plot's square, and the margins for the title, the legend row, ticks and labels. */
const SIZE = 440;
const M = { left: 58, right: 22, top: 62, bottom: 50 };
const W = M.left + SIZE + M.right;
const H = M.top + SIZE + M.bottom;

const classColor = (label: number) => PALETTE[label % PALETTE.length];

/** The regions at the plot's size, each class's colour mixed 65% towards white. */
function regions(spec: BoundarySpec): Raster {
  const img = new Raster(SIZE, SIZE);
  const white: [number, number, number] = [255, 255, 255];
  for (let py = 0; py < SIZE; py++) {
    const gy = Math.min(spec.gridHeight - 1, Math.floor((py / SIZE) * spec.gridHeight));
    for (let px = 0; px < SIZE; px++) {
      const gx = Math.min(spec.gridWidth - 1, Math.floor((px / SIZE) * spec.gridWidth));
      img.blend(px, py, mix(hexToRgb(classColor(spec.grid[gy * spec.gridWidth + gx])), white, 0.65));
    }
  }
  return img;
}

/** The decision regions with the points, axes and a legend of the classes, as SVG. */
export function boundarySvg(spec: BoundarySpec, title: string): string {
  const [x0, x1] = spec.xRange;
  const [y0, y1] = spec.yRange;
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * SIZE;
  const sy = (y: number) => M.top + (1 - (y - y0) / (y1 - y0)) * SIZE;
  const background = regions(spec).toPng().toString('base64');
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="'DejaVu Sans', sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<image x="${M.left}" y="${M.top}" width="${SIZE}" height="${SIZE}" href="data:image/png;base64,${background}"/>`,
  ];
  for (const t of niceTicks(x0, x1)) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${M.top + SIZE}" x2="${x}" y2="${M.top + SIZE + 5}" stroke="#444"/>`);
    out.push(`<text x="${x}" y="${M.top + SIZE + 18}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${M.left - 5}" y1="${y}" x2="${M.left}" y2="${y}" stroke="#444"/>`);
    out.push(
      `<text x="${M.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${SIZE}" height="${SIZE}" fill="none" stroke="#444"/>`,
    `<text x="${M.left + SIZE / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(spec.xLabel ?? 'x₁')}</text>`,
    `<text transform="translate(16 ${M.top + SIZE / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel ?? 'x₂')}</text>`,
  );
  for (const p of spec.points) {
    out.push(
      `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.6" fill="${classColor(p.label)}" stroke="white" stroke-width="0.8"/>`,
    );
  }
  // The legend sits in a row between the title and the plot: the regions fill the whole plot,
  // so no place inside it is free of data.
  const classes = [...new Set(spec.points.map((p) => p.label))].sort((a, b) => a - b);
  const entry = 86;
  let x = M.left + (SIZE - classes.length * entry) / 2;
  for (const label of classes) {
    out.push(
      `<circle cx="${x + 6}" cy="44" r="5" fill="${classColor(label)}" stroke="white" stroke-width="0.8"/>`,
      `<text x="${x + 16}" y="44" dominant-baseline="middle">class ${label}</text>`,
    );
    x += entry;
  }
  out.push('</svg>', '');
  return out.join('\n');
}

/** The decision-boundary picture as PNG: {@link boundarySvg} rasterised. */
export function boundaryPng(spec: BoundarySpec, title: string, options?: RasteriseOptions): Promise<Buffer> {
  return svgToPng(boundarySvg(spec, title), options);
}
