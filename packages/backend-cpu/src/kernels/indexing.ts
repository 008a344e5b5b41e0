/**
 * Gather along the middle axis of `[outer, size, inner]`, and its adjoint scatter-add.
 * Indices were range-checked by core; the loops re-check cheaply so a bad index can never
 * read or write outside the arrays.
 */
import type { AxisIndexLayout, TypedArray } from '@nabla/core';

function badIndex(kernel: string, t: number, size: number, at: number): RangeError {
  return new RangeError(`cpu ${kernel}: index ${t} at position ${at} is outside [0, ${size})`);
}

/** The counts of a gather or scatter-add call: its `AxisIndexLayout` but the index buffer. */
export type IndexCounts = Omit<AxisIndexLayout, 'index'>;

/**
 * Walks `index: [outer, k, inner]` in order, checking each entry and calling `visit(q, p)` with
 * its position `q` and the position `p` in `[outer, size, inner]` that it names.
 */
function eachIndexed(
  kernel: string,
  index: Int32Array,
  { outer, size, k, inner }: IndexCounts,
  visit: (q: number, p: number) => void,
): void {
  let q = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++, q++) {
        const t = index[q];
        if (t < 0 || t >= size) throw badIndex(kernel, t, size, q);
        visit(q, base + t * inner + i);
      }
    }
  }
}

/** `out[o, j, i] = x[o, index[o, j, i], i]`. */
export function gather(x: TypedArray, index: Int32Array, out: TypedArray, counts: IndexCounts): void {
  eachIndexed('gather', index, counts, (q, p) => {
    out[q] = x[p];
  });
}

/** Zeroes `out: [outer, size, inner]`, then `out[o, index[o, j, i], i] += src[o, j, i]`. */
export function scatterAdd(src: TypedArray, index: Int32Array, out: TypedArray, counts: IndexCounts): void {
  out.fill(0, 0, counts.outer * counts.size * counts.inner);
  eachIndexed('scatterAdd', index, counts, (q, p) => {
    out[p] += src[q];
  });
}
