/** The cpu kernel tests' helpers: random views, a float64 strided reader, a backend fixture (the generator is the test kit's). */
import type { DType, StridedView } from '@nabla/core';
import { type Rng, randInt, randomArray, rng, upload } from '@nabla/test-kit';
import { type CpuBackend, createCpuBackend } from '../src/backend.js';

/** Row-major strides of a shape (core's). */
export { contiguousStrides } from '@nabla/core';

export function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Every multi-index of `shape` in row-major order. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  if (shape.some((s) => s === 0)) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    yield idx.slice();
    let d = shape.length - 1;
    while (d >= 0 && ++idx[d] === shape[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/** Reads element `idx` of a strided view straight from its definition. */
export function at(
  data: ArrayLike<number>,
  offset: number,
  strides: readonly number[],
  idx: number[],
): number {
  let p = offset;
  for (let d = 0; d < idx.length; d++) p += idx[d] * strides[d];
  return data[p];
}

export interface Fixture {
  be: CpuBackend;
  /** Allocates and writes a buffer. */
  buf(data: Float32Array | Int32Array): ReturnType<CpuBackend['alloc']>;
  view(data: Float32Array | Int32Array, offset: number, strides: readonly number[]): StridedView;
}

export function fixture(): Fixture {
  const be = createCpuBackend();
  const buf = (data: Float32Array | Int32Array) => upload(be, data);
  return { be, buf, view: (data, offset, strides) => ({ buffer: buf(data), offset, strides }) };
}

/** Runs `count` random trials on one fixture, drawing from one generator seeded with `seed`. */
export function randomTrials(
  seed: number,
  count: number,
  trial: (r: Rng, f: Fixture, trial: number) => void,
): void {
  const r = rng(seed);
  const f = fixture();
  for (let i = 0; i < count; i++) trial(r, f, i);
}

/**
 * A random input view for an output `shape`: each dimension is randomly broadcast
 * (stride 0, when the size allows), the storage order is randomly permuted (transposed
 * strides), and the view starts at a random offset inside a larger array.
 */
export function randomView(
  r: Rng,
  shape: readonly number[],
  dtype: DType,
  scale = 4,
): { data: Float32Array | Int32Array; offset: number; strides: number[] } {
  const rank = shape.length;
  const stored = shape.map((s) => (s > 1 && r() < 0.25 ? 1 : s)); // 1 → broadcast below
  const order = [...Array(rank).keys()].sort(() => r() - 0.5);
  const strides = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let q = rank - 1; q >= 0; q--) {
    const d = order[q];
    strides[d] = stored[d] === 1 ? 0 : acc;
    acc *= stored[d];
  }
  const offset = randInt(r, 0, 3);
  const data = randomArray(r, offset + prod(stored) + randInt(r, 0, 2), dtype, scale);
  return { data, offset, strides };
}
