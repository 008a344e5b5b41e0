/**
 * Plain-JS matmul baselines for W3 (spec: single-threaded cache-blocked i-k-j over
 * Float32Array with the best block size of a 32/64/128/256 sweep, the unblocked i-k-j loop,
 * and a k-unrolled×4 variant). They show what a straightforward JS kernel reaches, so a
 * backend's number can be read against it. Only W3_AB is defined for them.
 */
import { randn } from '../data.js';
import type { CaseId, Sizes } from '../spec.js';
import type { Impl, Prepared } from './types.js';

/** `c = a·b` for `[n, n]` matrices, unblocked i-k-j (rows of b streamed, c row kept hot). */
export function matmulIkj(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[ci + k];
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] += aik * b[bk + j];
    }
  }
}

/** i-k-j with k unrolled by 4: four rows of b per pass over the c row (n divisible by 4 or a tail loop). */
export function matmulIkjUnroll4(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  c.fill(0);
  const k4 = n - (n % 4);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    let k = 0;
    for (; k < k4; k += 4) {
      const a0 = a[ci + k];
      const a1 = a[ci + k + 1];
      const a2 = a[ci + k + 2];
      const a3 = a[ci + k + 3];
      const b0 = k * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++)
        c[ci + j] += a0 * b[b0 + j] + a1 * b[b1 + j] + a2 * b[b2 + j] + a3 * b[b3 + j];
    }
    for (; k < n; k++) {
      const aik = a[ci + k];
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] += aik * b[bk + j];
    }
  }
}

/** Cache-blocked i-k-j with square `bs` tiles over k and j. */
export function matmulBlocked(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  n: number,
  bs: number,
): void {
  c.fill(0);
  for (let kk = 0; kk < n; kk += bs) {
    const kEnd = Math.min(kk + bs, n);
    for (let jj = 0; jj < n; jj += bs) {
      const jEnd = Math.min(jj + bs, n);
      for (let i = 0; i < n; i++) {
        const ci = i * n;
        for (let k = kk; k < kEnd; k++) {
          const aik = a[ci + k];
          const bk = k * n;
          for (let j = jj; j < jEnd; j++) c[ci + j] += aik * b[bk + j];
        }
      }
    }
  }
}

/** Block sizes the spec sweeps. */
export const BLOCK_SIZES = [32, 64, 128, 256] as const;

/**
 * The plain-JS baselines as three implementations sharing one id prefix: `plainjs` runs the
 * blocked loop (block size picked by a short sweep before timing), `plainjs-ikj` and
 * `plainjs-unroll4` the other two. All are reported under W3_AB only.
 */
export async function createPlainJs(variant: 'blocked' | 'ikj' | 'unroll4' = 'blocked'): Promise<Impl> {
  const id = variant === 'blocked' ? 'plainjs-blocked' : `plainjs-${variant}`;
  const info: Record<string, string | number | boolean> = { threads: 1 };
  return {
    id,
    library: `plain JS (Node ${process.versions.node})`,
    info,
    notes: {
      W3_AB:
        variant === 'blocked'
          ? 'block size chosen by a 2-iteration sweep over 32/64/128/256 before timing; one process, not two'
          : variant === 'ikj'
            ? 'unblocked i-k-j loop; one process, not two'
            : 'i-k-j, k unrolled by 4; one process, not two',
    },
    supports: (c: CaseId) => c === 'W3_AB',
    prepare: async (_c: CaseId, sizes: Sizes): Promise<Prepared> => {
      const n = sizes.w3;
      const a = randn(n * n, 6);
      const b = randn(n * n, 7);
      const c = new Float32Array(n * n);
      const probe = () => c;
      if (variant === 'ikj') return { step: () => matmulIkj(a, b, c, n), probe };
      if (variant === 'unroll4') return { step: () => matmulIkjUnroll4(a, b, c, n), probe };
      let best: number = BLOCK_SIZES[0];
      let bestMs = Number.POSITIVE_INFINITY;
      for (const bs of BLOCK_SIZES) {
        matmulBlocked(a, b, c, n, bs);
        const t0 = performance.now();
        matmulBlocked(a, b, c, n, bs);
        const ms = performance.now() - t0;
        info[`sweep_ms_bs${bs}`] = Math.round(ms * 10) / 10;
        if (ms < bestMs) {
          bestMs = ms;
          best = bs;
        }
      }
      info.block_size = best;
      return { step: () => matmulBlocked(a, b, c, n, best), probe };
    },
  };
}
