/** Interleaved 2D spirals, one arm per class, with Gaussian noise: a classic non-linear toy task. */
import { Generator } from '@nabla/core';
import type { Dataset } from './dataset.js';

/** `perClass` points on each of `classes` spiral arms of `turns` turns, radius 0..1, angular noise `noise` (radians). */
export function makeSpirals(
  perClass: number,
  classes: number,
  noise: number,
  seed: number,
  turns = 1,
): Dataset {
  const gen = new Generator(seed >>> 0);
  const n = perClass * classes;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const k = c * perClass + i;
      const r = (i + 1) / perClass;
      const angle = (2 * Math.PI * c) / classes + r * turns * 2 * Math.PI + gen.normal() * noise;
      x[2 * k] = r * Math.cos(angle);
      x[2 * k + 1] = r * Math.sin(angle);
      y[k] = c;
    }
  }
  return { x, y, sampleShape: [2], n };
}
