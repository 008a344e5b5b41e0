/** Reading a chart's SVG back in tests. */
import { expect } from 'vitest';

/** The legend box of an SVG chart (the white, translucent rectangle), in SVG units. */
export function legendBox(svg: string): { x: number; y: number; w: number; h: number } {
  const m = svg.match(
    /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="white" fill-opacity/,
  );
  expect(m).not.toBeNull();
  const [x, y, w, h] = m!.slice(1).map(Number);
  return { x, y, w, h };
}
