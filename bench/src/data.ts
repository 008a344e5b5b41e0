/**
 * Deterministic inputs shared by every JS implementation, so they all see the same numbers
 * (the spec's seed is 0). Generated once, outside any timed region.
 */

/** mulberry32: a small, fast 32-bit PRNG; quality is ample for benchmark inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` samples of N(0, 1) (Box–Muller). */
export function randn(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - r();
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** `n` samples of U(-bound, bound): PyTorch's default Linear init uses bound = 1/sqrt(fan_in). */
export function uniform(n: number, bound: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * bound;
  return out;
}

/** `n` integers uniform in `[0, k)`. */
export function randint(n: number, k: number, seed: number): Int32Array {
  const r = rng(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * k);
  return out;
}

/** Weights of one Linear layer, `[out, in]` row-major (PyTorch's layout) plus bias `[out]`. */
export function linearInit(
  fanIn: number,
  fanOut: number,
  seed: number,
): { w: Float32Array; b: Float32Array } {
  const bound = 1 / Math.sqrt(fanIn);
  return { w: uniform(fanIn * fanOut, bound, seed), b: uniform(fanOut, bound, seed + 1) };
}

/** Row-major transpose of a `[rows, cols]` matrix. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** `(N, C, L)` → `(N, L, C)` copy, for channels-last peers' data that is prepared outside the timed region. */
export function nclToNlc(x: Float32Array, n: number, c: number, l: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < c; j++) for (let k = 0; k < l; k++) out[(i * l + k) * c + j] = x[(i * c + j) * l + k];
  return out;
}
