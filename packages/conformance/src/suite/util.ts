/** Shared helpers of the suite: reference arrays to tensors in several layouts, and comparisons. */
import { compile, type DType, type Tensor, tensor, tidy } from '@nabla/core';
import * as R from '../ref.js';

/** How a test input is laid out in memory; every layout holds the same logical values. */
export type Layout = 'contiguous' | 'transposed' | 'permuted' | 'sliced';

/** All layouts, for loops. */
export const LAYOUTS: readonly Layout[] = ['contiguous', 'transposed', 'permuted', 'sliced'];

/** Tolerances: `|a - e| <= atol + rtol * |e|`. */
export interface Tol {
  rtol: number;
  atol: number;
}

/** For ops that are exact up to one float32 rounding. */
export const EXACT: Tol = { rtol: 2e-6, atol: 1e-7 };
/** For transcendental functions and accumulations. */
export const LOOSE: Tol = { rtol: 1e-4, atol: 1e-5 };

function upload(r: R.Ref, dtype: DType): Tensor {
  const values = dtype === 'int32' ? Int32Array.from(r.data) : Float32Array.from(r.data);
  return tensor(values, { shape: r.shape, dtype });
}

/**
 * A tensor holding `r`'s values through a view of the given layout: a transpose of the
 * transposed data, a permutation of permuted data, or a slice out of a padded buffer.
 * Falls back to contiguous where the layout needs more dims than `r` has.
 */
export function toTensor(r: R.Ref, options: { dtype?: DType; layout?: Layout } = {}): Tensor {
  const dtype = options.dtype ?? 'float32';
  const layout = options.layout ?? 'contiguous';
  const rank = r.shape.length;
  if (layout === 'transposed' && rank >= 2) return upload(R.transpose(r, -1, -2), dtype).transpose(-1, -2);
  if (layout === 'permuted' && rank >= 2) {
    const rev = r.shape.map((_, i) => rank - 1 - i);
    return upload(R.permute(r, rev), dtype).permute(rev);
  }
  if (layout === 'sliced' && rank >= 1) {
    const padShape = [...r.shape];
    padShape[0] = 1;
    const pad = R.build(padShape, () => 7);
    const padded = R.concat([pad, r, pad, pad], 0);
    return upload(padded, dtype).slice(0, 1, 1 + r.shape[0]);
  }
  return upload(r, dtype);
}

/** Throws a message naming the label, the index and both values on the first mismatch. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tol,
  label: string,
): void {
  if (actual.length !== expected.length)
    throw new Error(`${label}: got ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e))
      continue;
    throw new Error(`${label}: element ${i} is ${a}, expected ${e} (rtol ${tol.rtol}, atol ${tol.atol})`);
  }
}

/** Checks a tensor's shape, dtype (when given) and values against a reference. */
export async function expectTensor(
  t: Tensor,
  expected: R.Ref,
  tol: Tol,
  label: string,
  dtype?: DType,
): Promise<void> {
  if (t.shape.length !== expected.shape.length || t.shape.some((d, i) => d !== expected.shape[i])) {
    throw new Error(`${label}: shape [${t.shape}], expected [${expected.shape}]`);
  }
  if (dtype && t.dtype !== dtype) throw new Error(`${label}: dtype ${t.dtype}, expected ${dtype}`);
  assertClose(await t.data(), expected.data, tol, label);
}

/** How {@link check} runs a case: op by op, or compiled (captured, then checked on a replay). */
export const caseMode = { compiled: false };

/**
 * Runs `fn` in a `tidy` (so its inputs and intermediates are freed), checks its result
 * against `expected`, then disposes the result. With `caseMode.compiled`, `fn` is compiled
 * instead: the first call captures it, and the checked result is a replay's.
 */
export async function check(
  fn: () => Tensor,
  expected: R.Ref,
  tol: Tol,
  label: string,
  dtype?: DType,
): Promise<void> {
  if (caseMode.compiled) {
    const compiled = compile(fn);
    try {
      compiled().dispose();
      const out = compiled();
      try {
        if (compiled.stats.replays !== 1) throw new Error(`${label}: the compiled case did not replay`);
        await expectTensor(out, expected, tol, `${label} (compiled)`, dtype);
      } finally {
        out.dispose();
      }
    } finally {
      compiled.dispose();
    }
    return;
  }
  const out = tidy(fn);
  try {
    await expectTensor(out, expected, tol, label, dtype);
  } finally {
    out.dispose();
  }
}

/** The values of a tensor as a float64 reference. */
export async function toRef(t: Tensor): Promise<R.Ref> {
  return R.ref(t.shape, await t.data());
}
