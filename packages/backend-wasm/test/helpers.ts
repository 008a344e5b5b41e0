/** The wasm kernel tests' own helpers (the generator, uploads and closeness are the test kit's). */
import { type BackendBuffer, registerBackend, type StridedView, setBackend } from '@nabla/core';
import { afterAll, beforeAll, describe } from 'vitest';
import { createWasmBackend, type WasmBackend, type WasmBackendOptions } from '../src/backend.js';

/** Row-major strides of a shape (core's). */
export { contiguousStrides as contiguous } from '@nabla/core';

export function view(buffer: BackendBuffer, strides: number[], offset = 0): StridedView {
  return { buffer, offset, strides };
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

/**
 * Registers 'wasm' as a fresh instance with `options` and makes it current before the file's
 * tests (so the file holds the instance it checks), and destroys it after them.
 */
export function registerWasm(options: WasmBackendOptions): { readonly be: WasmBackend } {
  const holder = {} as { be: WasmBackend };
  beforeAll(async () => {
    registerBackend('wasm', async () => {
      holder.be = await createWasmBackend(options);
      return holder.be;
    });
    await setBackend('wasm');
  });
  afterAll(() => holder.be.destroy());
  return holder;
}

/**
 * Declares the tests of `body` twice, on 1 and on 2 threads, titled `title (N thread[s])`: each
 * group on its own backend instance, created before its tests and destroyed after them. `be()`
 * returns the group's instance (inside a test).
 */
export function describeThreadCounts(
  title: string,
  body: (be: () => WasmBackend, threads: number) => void,
): void {
  for (const threads of [1, 2]) {
    describe(`${title} (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      let backend: WasmBackend;
      beforeAll(async () => {
        backend = await createWasmBackend({ threads });
      });
      afterAll(() => backend.destroy());
      body(() => backend, threads);
    });
  }
}
