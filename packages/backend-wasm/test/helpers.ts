import type { BackendBuffer, DType, StridedView } from '@nabla/core';
import { expect } from 'vitest';
import type { WasmBackend } from '../src/backend.js';

/** Row-major strides of a shape (core's). */
export { contiguousStrides as contiguous } from '@nabla/core';

/** Deterministic uniform numbers in [lo, hi) (a 32-bit LCG; tests need no quality). */
export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (lo = -1, hi = 1) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  };
}

export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r(lo, hi);
  return out;
}

export function upload(b: WasmBackend, data: Float32Array | Int32Array): BackendBuffer {
  const dtype: DType = data instanceof Float32Array ? 'float32' : 'int32';
  const buf = b.alloc(data.length, dtype);
  b.write(buf, data);
  return buf;
}

export function view(buffer: BackendBuffer, strides: number[], offset = 0): StridedView {
  return { buffer, offset, strides };
}

/** Elementwise closeness with |a-b| <= atol + rtol*|b|; NaN must match NaN. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  atol = 1e-6,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) throw new Error(`index ${i}: expected NaN, got ${a}`);
      continue;
    }
    if (a === e) continue; // also equal infinities
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`index ${i}: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)})`);
    }
  }
}

/** Visits every multi-index of `shape` in row-major order. */
export function forEachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const total = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    f(idx, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (shape[d] as number)) break;
      idx[d] = 0;
    }
  }
}

export function stridedGet(
  data: ArrayLike<number>,
  v: { offset: number; strides: readonly number[] },
  idx: number[],
): number {
  let p = v.offset;
  for (let d = 0; d < idx.length; d++) p += (idx[d] as number) * (v.strides[d] as number);
  return data[p] as number;
}
