/**
 * A 2D classifier's decision regions: the predicted class on a grid, painted in light
 * colours, with the data points on top. Written as PNG and as SVG (the regions embedded as
 * an image, the points as circles).
 */
import { hexToRgb, mix, PALETTE } from './colors.js';
import { Raster } from './raster.js';

/** The grid of predictions and the points to draw over it. */
export interface BoundarySpec {
  /** Predicted class per grid cell, row-major, row 0 at the top (largest y). */
  grid: Int32Array;
  gridWidth: number;
  gridHeight: number;
  xRange: [number, number];
  yRange: [number, number];
  points: { x: number; y: number; label: number }[];
}

const SIZE = 480;

function regions(spec: BoundarySpec, withPoints: boolean): Raster {
  const img = new Raster(SIZE, SIZE);
  const white: [number, number, number] = [255, 255, 255];
  for (let py = 0; py < SIZE; py++) {
    const gy = Math.min(spec.gridHeight - 1, Math.floor((py / SIZE) * spec.gridHeight));
    for (let px = 0; px < SIZE; px++) {
      const gx = Math.min(spec.gridWidth - 1, Math.floor((px / SIZE) * spec.gridWidth));
      const cls = spec.grid[gy * spec.gridWidth + gx];
      img.blend(px, py, mix(hexToRgb(PALETTE[cls % PALETTE.length]), white, 0.65));
    }
  }
  if (withPoints) {
    for (const p of spec.points) {
      const [x, y] = toPixel(spec, p.x, p.y);
      img.disc(x, y, 3, [255, 255, 255]);
      img.disc(x, y, 2.2, hexToRgb(PALETTE[p.label % PALETTE.length]));
    }
  }
  return img;
}

function toPixel(spec: BoundarySpec, x: number, y: number): [number, number] {
  const [x0, x1] = spec.xRange;
  const [y0, y1] = spec.yRange;
  return [((x - x0) / (x1 - x0)) * SIZE, (1 - (y - y0) / (y1 - y0)) * SIZE];
}

/** The decision regions with the points, as PNG. */
export function boundaryPng(spec: BoundarySpec): Buffer {
  return regions(spec, true).toPng();
}

/** The decision regions (embedded PNG) with the points as SVG circles. */
export function boundarySvg(spec: BoundarySpec, title: string): string {
  const background = regions(spec, false).toPng().toString('base64');
  const circles = spec.points.map((p) => {
    const [x, y] = toPixel(spec, p.x, p.y);
    return `<circle cx="${x.toFixed(1)}" cy="${(y + 30).toFixed(1)}" r="2.6" fill="${PALETTE[p.label % PALETTE.length]}" stroke="white" stroke-width="0.8"/>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE + 30}" font-family="sans-serif">`,
    `<text x="${SIZE / 2}" y="20" text-anchor="middle" font-size="15">${title}</text>`,
    `<image x="0" y="30" width="${SIZE}" height="${SIZE}" href="data:image/png;base64,${background}"/>`,
    ...circles,
    '</svg>',
    '',
  ].join('\n');
}
