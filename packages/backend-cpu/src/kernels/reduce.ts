/**
 * Axis reductions of a contiguous `[outer, size, inner]` array into `[outer, inner]`.
 *
 * Each op is a table entry: a `fold` (sum) or a `take` predicate (max/min and their arg
 * forms), written once as an arrow function. One template emits two loop shapes with it
 * inlined: `inner == 1` (reduce each contiguous row into a scalar) and `inner > 1` (sweep
 * rows of length `inner` into a vector of accumulators, so memory is read in order).
 * Accumulators are float64, so float32 sums lose far less than a float32 running sum.
 */
import type { ReduceOp, TypedArray } from '@nabla/core';
import { arrowSource, compile, kernelCache, noteKernel } from './codegen.js';

interface ReduceSpec {
  /** Initial accumulator value. */
  readonly init: number;
  /** New accumulator from the old one and value `v` (sum). */
  readonly fold?: (acc: number, v: number) => number;
  /** True when `v` replaces the accumulator (and its index, for arg ops). */
  readonly take?: (v: number, acc: number) => boolean;
  /** True when the result is the index of the taken value, not the value. */
  readonly arg: boolean;
}

// max/min propagate NaN: once the accumulator is NaN it stays, and a NaN `v` replaces any
// number (`!(v <= acc)` is true for NaN). Strict comparisons keep the first index on ties.
const takeMax = (v: number, acc: number) => !Number.isNaN(acc) && !(v <= acc);
const takeMin = (v: number, acc: number) => !Number.isNaN(acc) && !(v >= acc);
const REDUCE: Record<ReduceOp, ReduceSpec> = {
  sum: { init: 0, fold: (acc, v) => acc + v, arg: false },
  max: { init: Number.NEGATIVE_INFINITY, take: takeMax, arg: false },
  min: { init: Number.POSITIVE_INFINITY, take: takeMin, arg: false },
  argmax: { init: Number.NEGATIVE_INFINITY, take: takeMax, arg: true },
  argmin: { init: Number.POSITIVE_INFINITY, take: takeMin, arg: true },
};

type ReduceFn = (x: TypedArray, out: TypedArray, outer: number, size: number, inner: number) => void;

/** The template; returns null when the op's function cannot be inlined or compiled. */
function generate(r: ReduceSpec, name: string): ReduceFn | null {
  const src = arrowSource((r.fold ?? r.take) as (...v: number[]) => number);
  if (src === null) return null;
  const [p0, p1] = src.params;
  // One statement folding `$$v` (at index `$$j`) into ACC/IDX, with the op's own parameter names bound.
  const step = (acc: string, idx: string) =>
    r.fold !== undefined
      ? `{ const ${p0} = ${acc}; const ${p1} = $$v; ${acc} = ${src.body}; }`
      : `{ const ${p0} = $$v; const ${p1} = ${acc}; if (${src.body}) { ${acc} = $$v; ${idx} = $$j; } }`;
  const result = r.arg ? 'idx' : 'acc';
  return compile<ReduceFn>(
    ['$$x', '$$out', '$$outer', '$$size', '$$inner'],
    `if ($$inner === 1) {
      for (let $$o = 0; $$o < $$outer; $$o++) {
        const $$base = $$o * $$size;
        let $$acc = ${r.init};
        let $$idx = 0;
        for (let $$j = 0; $$j < $$size; $$j++) {
          const $$v = $$x[$$base + $$j];
          ${step('$$acc', '$$idx')}
        }
        $$out[$$o] = $$${result};
      }
      return;
    }
    const $$acc = new Float64Array($$inner);
    const $$idx = new Int32Array($$inner);
    for (let $$o = 0; $$o < $$outer; $$o++) {
      $$acc.fill(${r.init});
      $$idx.fill(0);
      let $$base = $$o * $$size * $$inner;
      for (let $$j = 0; $$j < $$size; $$j++, $$base += $$inner) {
        for (let $$i = 0; $$i < $$inner; $$i++) {
          const $$v = $$x[$$base + $$i];
          ${step('$$acc[$$i]', '$$idx[$$i]')}
        }
      }
      $$out.set($$${result}, $$o * $$inner);
    }`,
    name,
  );
}

/** The generic fallback: the same arithmetic, calling the table's function per element. */
function interpret(r: ReduceSpec): ReduceFn {
  return (x, out, outer, size, inner) => {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc = r.init;
        let idx = 0;
        for (let j = 0; j < size; j++) {
          const v = x[(o * size + j) * inner + i];
          if (r.fold !== undefined) acc = r.fold(acc, v);
          else if (r.take!(v, acc)) {
            acc = v;
            idx = j;
          }
        }
        out[o * inner + i] = r.arg ? idx : acc;
      }
    }
  };
}

/** Keyed by op and the input/output array types, so each generated loop stays monomorphic. */
const cache = kernelCache<string, ReduceFn>();

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
  // the call was checked by core's checkReduceArgs (op, counts, empty axis, sizes, dtypes)
  const r = REDUCE[op];
  if (outer * inner === 0) return;
  const key = `${op}:${x instanceof Int32Array ? 'i' : 'f'}${out instanceof Int32Array ? 'i' : 'f'}`;
  let fn = cache.get(key);
  if (fn === undefined) {
    const generated = generate(r, `reduce-${key.replace(':', '-')}`);
    noteKernel(generated !== null);
    fn = generated ?? interpret(r);
    cache.set(key, fn);
  }
  fn(x, out, outer, size, inner);
}
