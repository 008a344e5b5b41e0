/** A noisy 1D curve to fit: y = sin(2x) + 0.3 x^2 - 0.5 + noise, x uniform in [-3, 3]. */
import { Generator } from '@nabla/core';
import type { Dataset } from './dataset.js';

/** The noiseless target function. */
export function targetFunction(x: number): number {
  return Math.sin(2 * x) + 0.3 * x * x - 0.5;
}

/** `n` samples with Gaussian noise of standard deviation `noise`. */
export function makeRegression(n: number, noise: number, seed: number): Dataset {
  const gen = new Generator(seed >>> 0);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = gen.uniform() * 6 - 3;
    y[i] = targetFunction(x[i]) + gen.normal() * noise;
  }
  return { x, y, sampleShape: [1], n };
}
