import type { DType } from '@nabla/core';
import { randInt, randomArray } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { fixture, randomTrials } from './helpers.js';

describe('cpu gather / scatterAdd', () => {
  it('gathers along the middle axis and scatter-adds back (the adjoint), for both dtypes', () => {
    randomTrials(31, 100, (r, { be, buf }) => {
      const outer = randInt(r, 0, 3);
      const size = randInt(r, 1, 5);
      const k = randInt(r, 0, 6);
      const inner = randInt(r, 1, 4);
      const dtype: DType = r() < 0.5 ? 'int32' : 'float32';
      const x = randomArray(r, outer * size * inner, dtype);
      const index = Int32Array.from({ length: outer * k * inner }, () => randInt(r, 0, size - 1));
      const out = be.alloc(outer * k * inner, dtype);
      be.kernels.gather({ x: buf(x), index: buf(index), out, outer, size, k, inner });
      const want: number[] = [];
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < k; j++)
          for (let i = 0; i < inner; i++)
            want.push(x[(o * size + index[(o * k + j) * inner + i]) * inner + i]);
      expect(Array.from(be.readSync(out))).toEqual(want);

      const src = randomArray(r, outer * k * inner, dtype);
      const acc = be.alloc(outer * size * inner, dtype);
      be.kernels.fill({ out: acc, value: 123 }); // must be zeroed first
      be.kernels.scatterAdd({ src: buf(src), index: buf(index), out: acc, outer, size, k, inner });
      const sums = new Float64Array(outer * size * inner);
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < k; j++)
          for (let i = 0; i < inner; i++) {
            const q = (o * k + j) * inner + i;
            sums[(o * size + index[q]) * inner + i] += src[q];
          }
      const got = be.readSync(acc);
      for (let i = 0; i < sums.length; i++) expect(got[i]).toBeCloseTo(sums[i], 4);
    });
  });

  it('never reads outside the input on a bad index', () => {
    const { be, buf } = fixture();
    const counts = { outer: 1, size: 4, k: 2, inner: 1 };
    const gather = (index: Int32Array | Float32Array) => () =>
      be.kernels.gather({
        x: buf(new Float32Array(4)),
        index: buf(index),
        out: be.alloc(2, 'float32'),
        ...counts,
      });
    expect(gather(new Int32Array([0, 4]))).toThrow(/index 4 at position 1 is outside \[0, 4\)/);
    expect(gather(new Float32Array(2))).toThrow(/gather index must be int32/);
  });
});
