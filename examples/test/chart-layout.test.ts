/** Chart layout: the legend sits where it covers no data; one-epoch charts show their point. */
import { describe, expect, it } from 'vitest';
import { type ChartSpec, chartSvg } from '../src/plot/chart.js';
import { legendBox } from './chart-svg.js';

/** The legend box and every drawn data point (path vertices and circles) of an SVG chart. */
function parse(svg: string) {
  const { x, y, w, h } = legendBox(svg);
  const points: [number, number][] = [];
  for (const m of svg.matchAll(/d="([^"]+)"/g))
    for (const p of m[1].matchAll(/[ML]([\d.]+),([\d.]+)/g)) points.push([Number(p[1]), Number(p[2])]);
  for (const m of svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g))
    points.push([Number(m[1]), Number(m[2])]);
  const inside = points.filter(([px, py]) => px >= x && px <= x + w && py >= y && py <= y + h);
  return { box: { x, y, w, h }, points, inside };
}

const rising = Array.from({ length: 20 }, (_, i) => 0.5 + i * 0.025);
const falling = rising.map((v) => 1.5 - v);

describe('chart layout', () => {
  it.each([
    ['accuracy rising into the top right', [rising, rising.map((v) => v - 0.02)]],
    ['loss falling from the top left', [falling, falling.map((v) => v + 0.02)]],
    ['both corners on top busy', [rising, falling]],
  ])('%s: the legend covers no data point', (_name, ys) => {
    const spec: ChartSpec = {
      title: 't',
      xLabel: 'epoch',
      yLabel: 'accuracy',
      series: ys.map((y, i) => ({ name: `series ${i}`, y })),
    };
    const { points, inside } = parse(chartSvg(spec));
    expect(points.length).toBe(40);
    expect(inside).toEqual([]);
  });

  it('a one-epoch chart draws each point and ticks only epoch 1', () => {
    const svg = chartSvg({
      title: 'one epoch',
      xLabel: 'epoch',
      yLabel: 'loss',
      series: [
        { name: 'train loss', y: [0.7] },
        { name: 'test loss', y: [0.5] },
      ],
    });
    expect(svg.match(/<circle /g)).toHaveLength(2);
    const xLabels = [...svg.matchAll(/text-anchor="middle">([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(xLabels).toContain('1');
    expect(xLabels).not.toContain('0.5');
    expect(xLabels).not.toContain('1.5');
    expect(svg).toContain('>loss</text>'); // the y-axis label
  });
});
