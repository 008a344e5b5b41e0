/** The one seeded generator of the tests, and the random data built on it. */
import type { DType } from '@nabla/core';

/** Uniform numbers in `[lo, hi)`, `[0, 1)` by default. */
export type Rng = (lo?: number, hi?: number) => number;

/** Mulberry32: small, seeded, good enough for test data. `r()` is uniform in `[0, 1)`. */
export function rng(seed: number): Rng {
  let s = seed >>> 0;
  return (lo = 0, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  };
}

/** A uniform integer in `[lo, hi]`. */
export function randInt(r: Rng, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** `n` values of `dtype`: floats uniform in `(-scale, scale)`, integers in `[-scale, scale]`. */
export function randomArray(r: Rng, n: number, dtype: DType, scale = 4): Float32Array | Int32Array {
  return dtype === 'float32'
    ? Float32Array.from({ length: n }, () => (r() - 0.5) * 2 * scale)
    : Int32Array.from({ length: n }, () => randInt(r, -scale, scale));
}

/** `n` float32 values uniform in `[lo, hi)` from a fresh generator seeded with `seed`. */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r(lo, hi));
}

/** `n` numbers uniform in `[lo, hi)` from a fresh generator seeded with `seed`. */
export function randomNumbers(n: number, seed: number, lo = -1, hi = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => r(lo, hi));
}
