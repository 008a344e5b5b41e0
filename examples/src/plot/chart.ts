/**
 * Line and scatter charts, drawn once as SVG; the PNG is that SVG rasterised
 * ({@link svgToPng}), so both show the same layout and text.
 */
import { PALETTE } from './colors.js';
import { type RasteriseOptions, svgToPng } from './rasterise.js';

/** One series: a line through its points, or the points alone. */
export interface Series {
  name: string;
  y: number[];
  /** x values; default 1, 2, 3, ... (epochs). */
  x?: number[];
  style?: 'line' | 'points';
  color?: string;
}

/** What a chart shows. */
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Log-scale y axis (for losses spanning decades); non-positive values are dropped. */
  logY?: boolean;
}

const W = 640;
const H = 400;
const M = { left: 70, right: 20, top: 40, bottom: 50 };

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Ticks for a log axis spanning log10 values [lo, hi]: powers of ten, plus 2x and 5x when few decades show. */
function logTicks(lo: number, hi: number): { value: number; label: string }[] {
  const out: { value: number; label: string }[] = [];
  const decades = hi - lo;
  const mantissas = decades > 3 ? [1] : decades > 1 ? [1, 2, 5] : [1, 1.5, 2, 3, 5, 7];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of mantissas) {
      const v = Math.log10(m) + k;
      if (v >= lo && v <= hi) out.push({ value: v, label: formatTick(Number((m * 10 ** k).toPrecision(3))) });
    }
  }
  return out;
}

/** Short tick text: 0.25, 1e-3, 1200. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('+', '');
  return String(Number(v.toPrecision(3)));
}

/** Escapes text for SVG. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Layout {
  sx: (x: number) => number;
  sy: (y: number) => number;
  xTicks: number[];
  /** Top-left corner of the legend box, in the plot corner that covers the fewest data points. */
  legend: { x: number; y: number; width: number; height: number };
  yTicks: { value: number; label: string }[];
  series: { name: string; color: string; style: 'line' | 'points'; pts: [number, number][] }[];
}

function layout(spec: ChartSpec): Layout {
  const tf = (y: number) => (spec.logY ? Math.log10(y) : y);
  const series = spec.series.map((s, i) => ({
    name: s.name,
    color: s.color ?? PALETTE[i % PALETTE.length],
    style: s.style ?? 'line',
    pts: s.y
      .map((y, j) => [s.x ? s.x[j] : j + 1, y] as [number, number])
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.logY || y > 0))
      .map(([x, y]) => [x, tf(y)] as [number, number]),
  }));
  const all = series.flatMap((s) => s.pts);
  let [x0, x1] = all.length ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = all.length ? [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))] : [0, 1];
  // Epochs are whole numbers: a one-epoch chart shows epoch 1 in the middle, ticked 1 only.
  const wholeX = all.every(([x]) => Number.isInteger(x));
  if (x1 === x0) [x0, x1] = wholeX ? [x0 - 0.5, x1 + 0.5] : [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const sy = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const yTicks = spec.logY
    ? logTicks(y0, y1)
    : niceTicks(y0, y1).map((v) => ({ value: v, label: formatTick(v) }));
  let xTicks = niceTicks(x0, x1);
  if (wholeX) {
    xTicks = xTicks.filter(Number.isInteger);
    if (xTicks.length === 0) xTicks = [Math.round((x0 + x1) / 2)];
  }
  const legend = placeLegend(
    series.map((s) => s.name),
    series.flatMap((s) => s.pts.map(([x, y]) => [sx(x), sy(y)] as [number, number])),
    series.flatMap((s) =>
      s.style === 'line'
        ? s.pts.slice(1).map((p, i) => [sx(s.pts[i][0]), sy(s.pts[i][1]), sx(p[0]), sy(p[1])] as const)
        : [],
    ),
  );
  return { sx, sy, xTicks, yTicks, series, legend };
}

/** Width of a legend entry's text at 12px DejaVu Sans (0.55 to 0.65 em a character; the wider bound). */
const legendTextWidth = (name: string) => Math.ceil(name.length * 7.8);

/**
 * The legend box at whichever of eight places (the plot's corners, then the middles of its
 * edges) covers the fewest data points and line samples; ties go to the earlier place.
 */
function placeLegend(
  names: string[],
  points: [number, number][],
  segments: (readonly [number, number, number, number])[],
): Layout['legend'] {
  const width = 34 + Math.max(0, ...names.map(legendTextWidth));
  const height = 8 + names.length * 18;
  const inset = 8;
  const left = M.left + inset;
  const right = W - M.right - inset - width;
  const top = M.top + inset;
  const bottom = H - M.bottom - inset - height;
  const samples = [...points];
  for (const [ax, ay, bx, by] of segments)
    for (let t = 0.1; t < 1; t += 0.1) samples.push([ax + (bx - ax) * t, ay + (by - ay) * t]);
  const centreX = (left + right) / 2;
  const middleY = (top + bottom) / 2;
  const corners = [
    { x: right, y: top },
    { x: left, y: top },
    { x: right, y: bottom },
    { x: left, y: bottom },
    { x: centreX, y: top },
    { x: centreX, y: bottom },
    { x: right, y: middleY },
    { x: left, y: middleY },
  ];
  const covered = (c: { x: number; y: number }) =>
    samples.filter(([x, y]) => x >= c.x - 4 && x <= c.x + width + 4 && y >= c.y - 4 && y <= c.y + height + 4)
      .length;
  let best = corners[0];
  for (const c of corners.slice(1)) if (covered(c) < covered(best)) best = c;
  return { ...best, width, height };
}

/** The chart as an SVG document. */
export function chartSvg(spec: ChartSpec): string {
  const L = layout(spec);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="'DejaVu Sans', sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(spec.title)}</text>`,
  ];
  for (const t of L.xTicks) {
    const x = L.sx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${H - M.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${H - M.bottom + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  for (const t of L.yTicks) {
    const y = L.sy(t.value).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#eee"/>`);
    out.push(
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${t.label}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#444"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel + (spec.logY ? ' (log scale)' : ''))}</text>`,
  );
  for (const s of L.series) {
    if (s.style === 'points') {
      for (const [x, y] of s.pts) {
        out.push(
          `<circle cx="${L.sx(x).toFixed(1)}" cy="${L.sy(y).toFixed(1)}" r="2.5" fill="${s.color}" fill-opacity="0.6"/>`,
        );
      }
    } else if (s.pts.length === 1) {
      const [x, y] = s.pts[0];
      out.push(`<circle cx="${L.sx(x).toFixed(1)}" cy="${L.sy(y).toFixed(1)}" r="4" fill="${s.color}"/>`);
    } else if (s.pts.length) {
      const d = s.pts
        .map(([x, y], i) => `${i ? 'L' : 'M'}${L.sx(x).toFixed(1)},${L.sy(y).toFixed(1)}`)
        .join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
  }
  const box = L.legend;
  out.push(
    `<rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`,
  );
  L.series.forEach((s, i) => {
    const y = box.y + 13 + i * 18;
    const x = box.x + 8;
    out.push(`<rect x="${x}" y="${y - 5}" width="14" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${x + 20}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The chart as a PNG file: {@link chartSvg} rasterised. */
export function chartPng(spec: ChartSpec, options?: RasteriseOptions): Promise<Buffer> {
  return svgToPng(chartSvg(spec), options);
}
