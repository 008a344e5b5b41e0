import { describe, expect, it } from 'vitest';
import { boundaryPng, boundarySvg } from '../src/plot/boundary.js';
import { chartSvg, niceTicks } from '../src/plot/chart.js';
import { crc32, encodePng } from '../src/plot/png.js';
import { terminalChart } from '../src/plot/terminal.js';
import { decodePng } from './png-decode.js';

describe('PNG encoder', () => {
  it('computes the standard CRC-32 (check value of "123456789" is 0xCBF43926)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });

  it('round-trips pixels through zlib with valid chunks', () => {
    const w = 5;
    const h = 3;
    const rgba = new Uint8Array(w * h * 4).map((_, i) => (i * 37) % 256);
    const png = decodePng(encodePng(w, h, rgba));
    expect(png.chunks).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(png.filters).toEqual([0, 0, 0]); // the encoder writes every scanline unfiltered
    expect([png.width, png.height]).toEqual([w, h]);
    expect(png.rgba).toEqual(rgba);
  });

  it('rejects a buffer of the wrong size, naming both sizes', () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow('expected 16 bytes for 2x2 RGBA, got 15');
  });
});

describe('charts', () => {
  const spec = {
    title: 'loss & <stuff>',
    xLabel: 'epoch',
    yLabel: 'loss',
    series: [
      { name: 'train', y: [1, 0.5, 0.25, 0.2] },
      { name: 'test', y: [1.2, 0.7, Number.NaN, 0.3] },
    ],
  };

  it('writes an SVG with one path per line series and escaped text', () => {
    const svg = chartSvg(spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('loss &amp; &lt;stuff&gt;');
    expect(svg).not.toContain('NaN');
  });

  it('picks round ticks', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 47, 4)).toEqual([20, 40]);
    expect(niceTicks(-0.3, 0.3, 3)).toEqual([-0.2, 0, 0.2]);
  });

  it('renders a terminal chart with its extremes on the axis', () => {
    const text = terminalChart([{ name: 'train loss', y: [2, 1, 0.5] }], { height: 5 });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\s+2\.00 \|\*/);
    expect(lines[4]).toMatch(/^\s+0\.500 \|.*\*$/);
    expect(text).toContain('* train loss');
  });

  it('paints decision regions by class with the points on top', async () => {
    const grid = new Int32Array([0, 1, 2, 0]);
    const spec = {
      grid,
      gridWidth: 2,
      gridHeight: 2,
      xRange: [0, 1] as [number, number],
      yRange: [0, 1] as [number, number],
      points: [{ x: 0.5, y: 0.5, label: 1 }],
    };
    const png = decodePng(await boundaryPng(spec, 't'));
    const plot = { x: 58 * 2, y: 62 * 2, size: 440 * 2 }; // the plot square, at the PNG's scale of 2
    const px = (x: number, y: number) => [
      ...png.rgba.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3),
    ];
    // Top-left cell is class 0 (blue tint), top-right class 1 (red tint): different colours.
    const [left, right, top, bottom] = [
      plot.x + 20,
      plot.x + plot.size - 20,
      plot.y + 20,
      plot.y + plot.size - 20,
    ];
    expect(px(left, top)).not.toEqual(px(right, top));
    expect(px(left, top)).toEqual(px(right, bottom));
    // One data point, and one legend entry for its class.
    expect(boundarySvg(spec, 't').match(/<circle [^>]*r="2.6"/g)).toHaveLength(1);
    expect(boundarySvg(spec, 't')).toContain('>class 1</text>');
  });
});
