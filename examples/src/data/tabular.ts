/**
 * A synthetic tabular binary-classification set: numeric columns on very different scales
 * (a log-income near 11, an age near 40, ratios near 0.5, counts), as spreadsheets have, and a
 * label from a nonlinear rule plus noise, with a minority positive class. Features are left
 * unscaled on purpose: the normalisation layer in the model has to cope.
 */
import { Generator as Rng } from '@nabla/core';
import type { Dataset } from './dataset.js';

/** Number of feature columns. */
export const TABULAR_FEATURES = 8;

/** `n` rows; `positiveFraction` of them (about) positive. Targets are float 0/1, shape `[n, 1]`. */
export function makeTabular(n: number, positiveFraction: number, seed: number): Dataset {
  const rng = new Rng(seed >>> 0);
  const x = new Float32Array(n * TABULAR_FEATURES);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const income = Math.exp(10.8 + 0.5 * rng.normal()); // ~5e4, skewed
    const age = 18 + 60 * rng.uniform();
    const debtRatio = Math.min(1.5, Math.abs(0.4 + 0.25 * rng.normal()));
    const accounts = Math.floor(12 * rng.uniform());
    const late = Math.floor(-Math.log(1 - rng.uniform()) * 0.8);
    const tenure = 30 * rng.uniform();
    const util = rng.uniform();
    const noise = rng.normal();
    const row = [Math.log(income), age, debtRatio, accounts, late, tenure, util, noise];
    x.set(row, i * TABULAR_FEATURES);
    scores[i] =
      1.6 * debtRatio +
      0.9 * late +
      1.2 * util * util -
      0.6 * Math.log(income / 5e4) -
      0.02 * (age - 45) +
      0.5 * Math.sin(accounts) -
      0.03 * tenure +
      0.45 * rng.normal();
  }
  // The threshold that makes about `positiveFraction` of the rows positive.
  const sorted = Float64Array.from(scores).sort();
  const threshold = sorted[Math.floor((1 - positiveFraction) * (n - 1))];
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = scores[i] > threshold ? 1 : 0;
  return { x, sampleShape: [TABULAR_FEATURES], y, n };
}
