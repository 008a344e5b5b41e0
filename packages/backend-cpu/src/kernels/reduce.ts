/**
 * Axis reductions of a contiguous `[outer, size, inner]` array into `[outer, inner]`.
 *
 * Each op is an (init, step) pair in a table; one template emits two loop shapes with the
 * step inlined: `inner == 1` (reduce each contiguous row into a scalar) and `inner > 1`
 * (sweep rows of length `inner` into a vector of accumulators, so memory is read in order).
 * Accumulators are float64, so float32 sums lose far less than a float32 running sum.
 */
import type { ReduceOp, TypedArray } from '@nabla/core';

interface ReduceExpr {
  /** Initial accumulator value. */
  readonly init: string;
  /** Statement folding value `v` at position `j` into `ACC` (and `IDX` for arg ops). */
  readonly step: string;
  /** True when the result is the index, not the accumulator. */
  readonly arg: boolean;
}

// max/min propagate NaN: once ACC is NaN it stays, and a NaN `v` replaces any number
// (`!(v <= ACC)` is true for NaN). Strict comparisons keep the first index on ties.
const REDUCE: Record<ReduceOp, ReduceExpr> = {
  sum: { init: '0', step: 'ACC += v;', arg: false },
  max: { init: '-Infinity', step: 'if (ACC === ACC && !(v <= ACC)) ACC = v;', arg: false },
  min: { init: 'Infinity', step: 'if (ACC === ACC && !(v >= ACC)) ACC = v;', arg: false },
  argmax: { init: '-Infinity', step: 'if (ACC === ACC && !(v <= ACC)) { ACC = v; IDX = j; }', arg: true },
  argmin: { init: 'Infinity', step: 'if (ACC === ACC && !(v >= ACC)) { ACC = v; IDX = j; }', arg: true },
};

type ReduceFn = (x: TypedArray, out: TypedArray, outer: number, size: number, inner: number) => void;

function generate(r: ReduceExpr): ReduceFn {
  const rowStep = r.step.replaceAll('ACC', 'acc').replaceAll('IDX', 'idx');
  const vecStep = r.step.replaceAll('ACC', 'acc[i]').replaceAll('IDX', 'idx[i]');
  const result = r.arg ? 'idx' : 'acc';
  const body = `'use strict';
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        const base = o * size;
        let acc = ${r.init};
        let idx = 0;
        for (let j = 0; j < size; j++) {
          const v = x[base + j];
          ${rowStep}
        }
        out[o] = ${result};
      }
      return;
    }
    const acc = new Float64Array(inner);
    const idx = new Int32Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(${r.init});
      idx.fill(0);
      let base = o * size * inner;
      for (let j = 0; j < size; j++, base += inner) {
        for (let i = 0; i < inner; i++) {
          const v = x[base + i];
          ${vecStep}
        }
      }
      out.set(${result}, o * inner);
    }`;
  return new Function('x', 'out', 'outer', 'size', 'inner', body) as ReduceFn;
}

/** Keyed by op and the input/output array types, so each generated loop stays monomorphic. */
const cache = new Map<string, ReduceFn>();

/**
 * Reduces contiguous `x: [outer, size, inner]` over the middle axis into `out: [outer, inner]`.
 * Arg ops write int32 indices; a `sum` over `size == 0` writes 0.
 */
export function reduce(
  op: ReduceOp,
  x: TypedArray,
  out: TypedArray,
  outer: number,
  size: number,
  inner: number,
): void {
  const r = REDUCE[op];
  if (r === undefined) throw new TypeError(`cpu reduce: unknown op '${op}'`);
  for (const [name, v] of [
    ['outer', outer],
    ['size', size],
    ['inner', inner],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`cpu reduce ${op}: ${name} must be a count, got ${v}`);
  }
  if (size === 0 && op !== 'sum') {
    throw new RangeError(`cpu reduce ${op}: cannot reduce an empty axis (outer ${outer}, inner ${inner})`);
  }
  if (x.length < outer * size * inner) {
    throw new RangeError(
      `cpu reduce ${op}: input holds ${x.length} elements, [${outer}, ${size}, ${inner}] needs ${outer * size * inner}`,
    );
  }
  if (out.length < outer * inner) {
    throw new RangeError(`cpu reduce ${op}: output holds ${out.length} elements, needs ${outer * inner}`);
  }
  if (r.arg && !(out instanceof Int32Array)) {
    throw new TypeError(`cpu reduce ${op}: output must be int32 indices`);
  }
  if (outer * inner === 0) return;
  const key = `${op}:${x instanceof Int32Array ? 'i' : 'f'}${out instanceof Int32Array ? 'i' : 'f'}`;
  let fn = cache.get(key);
  if (fn === undefined) {
    fn = generate(r);
    cache.set(key, fn);
  }
  fn(x, out, outer, size, inner);
}
