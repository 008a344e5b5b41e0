/**
 * Synthetic multichannel time series, shaped `(N, C, L)` like a 1D-conv input. The class is
 * the frequency of a noisy sine with a random phase, so no single time step tells it; each
 * sample has three channels on very different scales, which is what batch norm over N and L
 * (per channel) evens out:
 *   0: the signal, amplitude ~1;  1: its first difference times 10;  2: a drifting sensor
 *   reading around 50 with spread 20 that carries no information.
 */
import { Generator } from '@nabla/core';
import type { Dataset } from './dataset.js';

/** `n` sequences of length `length` over `classes` frequencies (1, 2, ... cycles per sequence). */
export function makeSequences(
  n: number,
  classes: number,
  length: number,
  noise: number,
  seed: number,
): Dataset {
  const gen = new Generator(seed >>> 0);
  const C = 3;
  const x = new Float32Array(n * C * length);
  const y = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const label = s % classes;
    const freq = label + 1;
    const phase = gen.uniform() * 2 * Math.PI;
    const amp = 0.8 + gen.uniform() * 0.4;
    const base = 50 + gen.normal() * 20;
    const signal = new Float32Array(length);
    for (let t = 0; t < length; t++)
      signal[t] = amp * Math.sin((2 * Math.PI * freq * t) / length + phase) + gen.normal() * noise;
    const o = s * C * length;
    for (let t = 0; t < length; t++) {
      x[o + t] = signal[t];
      x[o + length + t] = 10 * (signal[t] - signal[t > 0 ? t - 1 : 0]);
      x[o + 2 * length + t] = base + gen.normal() * 2;
    }
    y[s] = label;
  }
  return { x, y, sampleShape: [C, length], n };
}
