import type { ReduceOp } from '@nabla/core';
import { expectClose, randomF32, rng, upload } from '@nabla/test-kit';
import { expect, it } from 'vitest';
import { describeThreadCounts } from './helpers.js';

function refReduce(op: ReduceOp, x: ArrayLike<number>, outer: number, size: number, inner: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = op === 'sum' ? 0 : (x[o * size * inner + i] as number);
      let at = 0;
      for (let s = 0; s < size; s++) {
        const v = x[(o * size + s) * inner + i] as number;
        if (op === 'sum') acc += v;
        else if (op === 'max' && v > acc) acc = v;
        else if (op === 'min' && v < acc) acc = v;
        else if (op === 'argmax' && v > acc) [acc, at] = [v, s];
        else if (op === 'argmin' && v < acc) [acc, at] = [v, s];
      }
      out.push(op.startsWith('arg') ? at : acc);
    }
  }
  return out;
}

describeThreadCounts('reduce, gather, scatterAdd', (be) => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 1],
    [3, 37, 1],
    [1, 37, 5],
    [4, 9, 11],
    [2, 1, 6],
    [1, 300, 301],
    [300, 300, 1],
    [5, 0, 3],
  ];
  for (const [outer, size, inner] of shapes) {
    for (const dtype of ['float32', 'int32'] as const) {
      it(`${dtype} [${outer}, ${size}, ${inner}]`, () => {
        const n = outer * size * inner;
        const r = rng(outer * 31 + size * 7 + inner);
        const X =
          dtype === 'float32'
            ? Float32Array.from({ length: n }, () => r(-1, 1))
            : Int32Array.from({ length: n }, () => Math.floor(r(-5, 5))); // many ties: first index must win
        const x = upload(be(), X.length ? X : dtype === 'float32' ? new Float32Array(1) : new Int32Array(1));
        for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as ReduceOp[]) {
          if (size === 0 && op !== 'sum') continue;
          const out = be().alloc(outer * inner, op.startsWith('arg') ? 'int32' : dtype);
          be().kernels.reduce({ op, x, out, outer, size, inner });
          const ref = refReduce(op, X, outer, size, inner);
          try {
            expectClose(be().readSync(out), ref, 1e-5, 1e-5);
          } catch (e) {
            throw new Error(`${op}: ${(e as Error).message}`);
          }
          be().disposeBuffer(out);
        }
        be().disposeBuffer(x);
      });
    }
  }

  it('sum of a long row stays accurate (interleaved partial sums)', () => {
    const n = 1 << 20;
    const X = randomF32(n, 5, 0, 1);
    let ref = 0;
    for (const v of X) ref += v;
    const x = upload(be(), X);
    const out = be().alloc(1, 'float32');
    be().kernels.reduce({ op: 'sum', x, out, outer: 1, size: n, inner: 1 });
    expect(Math.abs((be().readSync(out)[0] as number) - ref) / ref).toBeLessThan(2e-5);
    be().disposeBuffer(x);
    be().disposeBuffer(out);
  });

  it('max propagates NaN; argmax picks the NaN', () => {
    const x = upload(be(), Float32Array.from([1, Number.NaN, 3, 2, 0, 5, 1, 1]));
    const out = be().alloc(1, 'float32');
    const idx = be().alloc(1, 'int32');
    be().kernels.reduce({ op: 'max', x, out, outer: 1, size: 8, inner: 1 });
    expect(be().readSync(out)[0]).toBeNaN();
    be().kernels.reduce({ op: 'argmax', x, out: idx, outer: 1, size: 8, inner: 1 });
    expect(be().readSync(idx)[0]).toBe(1);
    for (const b of [x, out, idx]) be().disposeBuffer(b);
  });

  for (const [outer, size, k, inner] of [
    [1, 10, 4, 1],
    [3, 5, 7, 4],
    [2, 6, 6, 1],
  ] as const) {
    it(`gather / scatterAdd [${outer}, ${size}, ${inner}] with k=${k}`, () => {
      const r = rng(size * 13 + k);
      const X = randomF32(outer * size * inner, 9);
      const I = Int32Array.from({ length: outer * k * inner }, () => Math.floor(r(0, size)));
      const S = randomF32(outer * k * inner, 10);
      const x = upload(be(), X);
      const idx = upload(be(), I);
      const src = upload(be(), S);
      const out = be().alloc(outer * k * inner, 'float32');
      be().kernels.gather({ x, index: idx, out, outer, size, k, inner });
      const refG: number[] = [];
      const refS = new Float64Array(outer * size * inner);
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < k; j++)
          for (let i = 0; i < inner; i++) {
            const f = (o * k + j) * inner + i;
            const q = I[f] as number;
            refG.push(X[(o * size + q) * inner + i] as number);
            refS[(o * size + q) * inner + i] += S[f] as number;
          }
      expectClose(be().readSync(out), refG, 0, 0);
      const sc = be().alloc(outer * size * inner, 'float32');
      be().kernels.fill({ out: sc, value: 123 }); // must be() zeroed by the kernel
      be().kernels.scatterAdd({ src, index: idx, out: sc, outer, size, k, inner });
      expectClose(be().readSync(sc), refS, 1e-6, 1e-6);
      for (const b of [x, idx, src, out, sc]) be().disposeBuffer(b);
    });
  }
});
