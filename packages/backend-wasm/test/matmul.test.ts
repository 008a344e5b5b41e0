import { expectClose, randomF32, refMatmul as reference, upload } from '@nabla/test-kit';
import { expect, it } from 'vitest';
import { describeThreadCounts } from './helpers.js';

/** The kit's float64 matmul reference, rounded to float32 as before. */
function refMatmul(
  a: Float32Array,
  b: Float32Array,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  strideA: number,
  strideB: number,
  bias?: Float32Array,
  relu = false,
): Float32Array {
  const args = { batch, m, n, k, transA, transB, strideA, strideB };
  return Float32Array.from(reference(a, b, args, { bias, relu }));
}

describeThreadCounts('matmul', (be, threads) => {
  it(`reports ${threads} thread(s)`, () => {
    expect(be().capabilities.info?.threads).toBe(threads);
  });

  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [1, 3, 5, 7],
    [1, 4, 8, 16],
    [1, 17, 13, 9],
    [1, 70, 65, 300],
    [3, 9, 10, 11],
    [1, 130, 520, 40],
    [1, 129, 67, 257],
    [1, 64, 530, 700], // several packed blocks in both directions (KC = NC = 512)
  ];
  for (const [batch, m, n, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`[${batch}] ${m}x${k} · ${k}x${n} transA=${transA} transB=${transB}`, () => {
          const A = randomF32(batch * m * k, 1 + m + k);
          const B = randomF32(batch * k * n, 7 + n);
          const a = upload(be(), A);
          const b = upload(be(), B);
          const out = be().alloc(batch * m * n, 'float32');
          be().kernels.matmul({ a, b, out, batch, m, n, k, transA, transB, strideA: m * k, strideB: k * n });
          expectClose(
            be().readSync(out),
            refMatmul(A, B, batch, m, n, k, transA, transB, m * k, k * n),
            1e-4,
            1e-4,
          );
          for (const x of [a, b, out]) be().disposeBuffer(x);
        });
      }
    }
  }

  it('broadcasts one B over the batch (strideB = 0) and handles k = 0', () => {
    const [batch, m, n, k] = [4, 6, 10, 12];
    const A = randomF32(batch * m * k, 3);
    const B = randomF32(k * n, 4);
    const a = upload(be(), A);
    const b = upload(be(), B);
    const out = be().alloc(batch * m * n, 'float32');
    be().kernels.matmul({
      a,
      b,
      out,
      batch,
      m,
      n,
      k,
      transA: false,
      transB: false,
      strideA: m * k,
      strideB: 0,
    });
    expectClose(be().readSync(out), refMatmul(A, B, batch, m, n, k, false, false, m * k, 0), 1e-4, 1e-4);
    be().kernels.matmul({
      a,
      b,
      out,
      batch: 1,
      m: 5,
      n: 3,
      k: 0,
      transA: false,
      transB: false,
      strideA: 0,
      strideB: 0,
    });
    expect(Array.from(be().readSync(out).subarray(0, 15))).toEqual(new Array(15).fill(0));
  });

  for (const [m, n, k] of [
    [5, 3, 7],
    [64, 100, 96],
    [200, 24, 33],
  ] as const) {
    for (const relu of [false, true]) {
      it(`linear ${m}x${k} -> ${n}, relu=${relu}, with and without bias`, () => {
        const X = randomF32(m * k, 11);
        const W = randomF32(n * k, 12);
        const bias = randomF32(n, 13);
        const x = upload(be(), X);
        const w = upload(be(), W);
        const bb = upload(be(), bias);
        const out = be().alloc(m * n, 'float32');
        for (const withBias of [true, false]) {
          be().kernels.linear({ x, w, bias: withBias ? bb : null, out, m, n, k, relu });
          const want = refMatmul(X, W, 1, m, n, k, false, true, 0, 0, withBias ? bias : undefined, relu);
          expectClose(be().readSync(out), want, 1e-4, 1e-4);
        }
        for (const t of [x, w, bb, out]) be().disposeBuffer(t);
      });
    }
  }
});
