import {
  expectClose,
  randomF32,
  refSoftmaxCrossEntropy,
  rng,
  softmaxCrossEntropyForward,
  upload,
} from '@nabla/test-kit';
import { it } from 'vitest';
import { describeThreadCounts } from './helpers.js';

/** float64 batch-norm statistics over N and L of (N, C, L). */
function refStats(X: Float32Array, n: number, c: number, l: number) {
  const mean = new Float64Array(c);
  const invStd = new Float64Array(c);
  const variance = new Float64Array(c);
  const M = n * l;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let r = 0; r < n; r++) for (let i = 0; i < l; i++) s += X[(r * c + ch) * l + i] as number;
    const mu = s / M;
    let q = 0;
    for (let r = 0; r < n; r++)
      for (let i = 0; i < l; i++) q += ((X[(r * c + ch) * l + i] as number) - mu) ** 2;
    mean[ch] = mu;
    variance[ch] = q / M;
    invStd[ch] = 1 / Math.sqrt(q / M + 1e-5);
  }
  return { mean, invStd, variance };
}

describeThreadCounts('fused kernels', (be) => {
  const bnShapes: [number, number, number][] = [
    [4096, 6, 1],
    [200, 7, 1],
    [3, 5, 33],
    [16, 3, 7],
    [2, 2, 1],
  ];
  for (const [n, c, l] of bnShapes) {
    for (const affine of [true, false]) {
      it(`batchNormTrain + backward (${n}, ${c}, ${l}) affine=${affine}, inputs around 1e4 with std 0.1`, () => {
        const size = n * c * l;
        const X = randomF32(size, n + c + l, -0.17, 0.17).map((v, i) => 1e4 + (i % 3) + v); // mean 1e4+1, small spread
        const G = randomF32(c, 2, 0.5, 1.5);
        const Bt = randomF32(c, 3);
        const DY = randomF32(size, 4);
        const [x, g, b, dy] = [upload(be(), X), upload(be(), G), upload(be(), Bt), upload(be(), DY)];
        const out = be().alloc(size, 'float32');
        const mean = be().alloc(c, 'float32');
        const vr = be().alloc(c, 'float32');
        const shape = { n, c, l };
        be().kernels.batchNormTrain({
          x,
          gamma: affine ? g : null,
          beta: affine ? b : null,
          out,
          mean,
          variance: vr,
          shape,
          eps: 1e-5,
          relu: false,
        });
        const ref = refStats(X, n, c, l);
        expectClose(be().readSync(mean), ref.mean, 1e-7, 0);
        expectClose(be().readSync(vr), ref.variance, 2e-4, 1e-9);
        const refOut = new Float64Array(size);
        const xhat = new Float64Array(size);
        for (let i = 0; i < size; i++) {
          const ch = Math.floor(i / l) % c;
          xhat[i] = ((X[i] as number) - (ref.mean[ch] as number)) * (ref.invStd[ch] as number);
          refOut[i] = affine ? xhat[i] * (G[ch] as number) + (Bt[ch] as number) : xhat[i];
        }
        expectClose(be().readSync(out), refOut, 1e-4, 2e-4);

        const dx = be().alloc(size, 'float32');
        const dg = be().alloc(c, 'float32');
        const db = be().alloc(c, 'float32');
        be().kernels.batchNormBackward({
          dy,
          x,
          mean,
          variance: vr,
          gamma: affine ? g : null,
          dx,
          dgamma: dg,
          dbeta: db,
          shape,
          eps: 1e-5,
          reluOutput: null,
        });
        const M = n * l;
        const rdb = new Float64Array(c);
        const rdg = new Float64Array(c);
        for (let i = 0; i < size; i++) {
          const ch = Math.floor(i / l) % c;
          rdb[ch] += DY[i] as number;
          rdg[ch] += (DY[i] as number) * (xhat[i] as number);
        }
        const rdx = new Float64Array(size);
        for (let i = 0; i < size; i++) {
          const ch = Math.floor(i / l) % c;
          const gm = affine ? (G[ch] as number) : 1;
          rdx[i] =
            ((gm * (ref.invStd[ch] as number)) / M) *
            (M * (DY[i] as number) - (rdb[ch] as number) - (xhat[i] as number) * (rdg[ch] as number));
        }
        expectClose(be().readSync(db), rdb, 1e-4, 1e-3);
        expectClose(be().readSync(dg), rdg, 1e-4, 1e-4);
        expectClose(be().readSync(dx), rdx, 1e-4, 1e-4);
        for (const t of [x, g, b, dy, out, mean, vr, dx, dg, db]) be().disposeBuffer(t);
      });
    }
  }

  for (const [rows, classes] of [
    [5, 3],
    [64, 10],
    [600, 130],
  ] as const) {
    it(`softmaxCrossEntropy forward ${rows}x${classes} with ignoreIndex`, () => {
      const L = randomF32(rows * classes, rows, -8, 8);
      const r = rng(classes);
      const T = Int32Array.from({ length: rows }, (_, i) => (i % 4 === 1 ? -100 : Math.floor(r(0, classes))));
      const [lg, tg] = [upload(be(), L), upload(be(), T)];
      const { loss, shift, logSum } = softmaxCrossEntropyForward(be(), lg, tg, rows, classes);
      const ref = refSoftmaxCrossEntropy(L, T, rows, classes);
      const sh = be().readSync(shift);
      const ls = be().readSync(logSum);
      expectClose(
        Array.from(sh, (v, i) => v + (ls[i] as number)),
        ref.lse,
        1e-5,
        1e-5,
      );
      expectClose(be().readSync(loss), ref.loss, 1e-5, 1e-5);
      for (const t of [lg, tg, loss, shift, logSum]) be().disposeBuffer(t);
    });
  }
});
