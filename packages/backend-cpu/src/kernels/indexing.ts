/**
 * Gather along the middle axis of `[outer, size, inner]`, and its adjoint scatter-add.
 * Indices were range-checked by core; the loops re-check cheaply so a bad index can never
 * read or write outside the arrays.
 */
import type { TypedArray } from '@nabla/core';

function badIndex(kernel: string, t: number, size: number, at: number): RangeError {
  return new RangeError(`cpu ${kernel}: index ${t} at position ${at} is outside [0, ${size})`);
}

/** `out[o, j, i] = x[o, index[o, j, i], i]`. */
export function gather(
  x: TypedArray,
  index: Int32Array,
  out: TypedArray,
  outer: number,
  size: number,
  k: number,
  inner: number,
): void {
  let q = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++, q++) {
        const t = index[q];
        if (t < 0 || t >= size) throw badIndex('gather', t, size, q);
        out[q] = x[base + t * inner + i];
      }
    }
  }
}

/** Zeroes `out: [outer, size, inner]`, then `out[o, index[o, j, i], i] += src[o, j, i]`. */
export function scatterAdd(
  src: TypedArray,
  index: Int32Array,
  out: TypedArray,
  outer: number,
  size: number,
  k: number,
  inner: number,
): void {
  out.fill(0, 0, outer * size * inner);
  let q = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++, q++) {
        const t = index[q];
        if (t < 0 || t >= size) throw badIndex('scatterAdd', t, size, q);
        out[base + t * inner + i] += src[q];
      }
    }
  }
}
