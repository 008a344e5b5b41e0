/** Fused kernels (batch norm, linear, the softmax cross-entropy forward) against float64 references. */

import {
  expectClose,
  randomNumbers,
  readBack,
  refSoftmaxCrossEntropy,
  softmaxCrossEntropyForward,
  upload,
} from '@nabla/test-kit';
import { afterAll, describe, it } from 'vitest';
import { f32, openBackend } from './helpers.js';

const backend = await openBackend();

/** Per-channel float64 statistics of a contiguous (N, C, L) array. */
function channelStats(xs: number[], n: number, c: number, l: number): { mean: number[]; variance: number[] } {
  const mean: number[] = [];
  const variance: number[] = [];
  const m = n * l;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) s += xs[(i * c + ch) * l + j];
    const mu = s / m;
    let q = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) q += (xs[(i * c + ch) * l + j] - mu) ** 2;
    mean.push(mu);
    variance.push(q / m);
  }
  return { mean, variance };
}

describe.skipIf(!backend)('webgpu fused kernels', () => {
  const b = backend!;
  afterAll(() => b.destroy());

  for (const [n, c, l, affine] of [
    [6, 3, 1, true],
    [4, 2, 5, false],
    [300, 2, 1, true],
  ] as const) {
    it(`batchNormTrain (${n}, ${c}, ${l}) ${affine ? 'affine' : 'plain'} stays accurate at a 1e4 offset`, async () => {
      const eps = 1e-5;
      // std ~0.03 at mean 1e4: a float32 mean is off by up to 5e-4 here, so xhat must not use it.
      const xs = f32(randomNumbers(n * c * l, n + c, -0.05, 0.05).map((v) => 1e4 + v));
      const gs = f32(randomNumbers(c, 3, 0.5, 1.5));
      const bs = f32(randomNumbers(c, 4));
      const x = upload(b, xs);
      const gamma = affine ? upload(b, gs) : null;
      const beta = affine ? upload(b, bs) : null;
      const out = b.alloc(n * c * l, 'float32');
      const mean = b.alloc(c, 'float32');
      const variance = b.alloc(c, 'float32');
      b.kernels.batchNormTrain({ x, gamma, beta, out, mean, variance, shape: { n, c, l }, eps, relu: false });
      const st = channelStats(xs, n, c, l);
      const inv = st.variance.map((v) => 1 / Math.sqrt(v + eps));
      expectClose(await readBack(b, mean), st.mean, 1e-7, 1e-4, 'mean');
      expectClose(await readBack(b, variance), st.variance, 2e-4, 1e-9, 'variance');
      const expected = xs.map((v, i) => {
        const ch = Math.floor(i / l) % c;
        const y = (v - st.mean[ch]) * inv[ch];
        return affine ? y * gs[ch] + bs[ch] : y;
      });
      expectClose(await readBack(b, out), expected, 1e-4, 1e-5, 'out');
    });
  }

  for (const [affine, offset] of [
    [true, 0],
    [false, 1e4],
  ] as const) {
    it(`batchNormBackward matches the float64 closed form (${affine ? 'gamma' : 'no gamma'}, offset ${offset})`, async () => {
      const [n, c, l] = [5, 3, 2];
      const m = n * l;
      const spread = offset ? 0.05 : 2;
      const xs = f32(randomNumbers(n * c * l, 11, -spread, spread).map((v) => offset + v));
      const dys = f32(randomNumbers(n * c * l, 12));
      const gs = f32(randomNumbers(c, 13, 0.5, 2));
      const st = channelStats(xs, n, c, l);
      const vars = f32(st.variance);
      const inv = Array.from(vars, (v) => 1 / Math.sqrt(v + 1e-5));
      const means = st.mean; // float64: the reference must not inherit a float32 mean's rounding
      const dx = b.alloc(n * c * l, 'float32');
      const dgamma = b.alloc(c, 'float32');
      const dbeta = b.alloc(c, 'float32');
      b.kernels.batchNormBackward({
        dy: upload(b, dys),
        x: upload(b, xs),
        mean: upload(b, f32(means)),
        variance: upload(b, vars),
        gamma: affine ? upload(b, gs) : null,
        dx,
        dgamma,
        dbeta,
        shape: { n, c, l },
        eps: 1e-5,
        reluOutput: null,
      });
      const sdy = new Array(c).fill(0);
      const sdyx = new Array(c).fill(0);
      xs.forEach((v, i) => {
        const ch = Math.floor(i / l) % c;
        sdy[ch] += dys[i];
        sdyx[ch] += dys[i] * (v - means[ch]) * inv[ch];
      });
      const expectedDx = xs.map((v, i) => {
        const ch = Math.floor(i / l) % c;
        const g = affine ? gs[ch] : 1;
        return ((g * inv[ch]) / m) * (m * dys[i] - sdy[ch] - (v - means[ch]) * inv[ch] * sdyx[ch]);
      });
      expectClose(await readBack(b, dbeta), sdy, 1e-5, 1e-5, 'dbeta');
      expectClose(await readBack(b, dgamma), sdyx, 1e-5, 1e-5, 'dgamma');
      expectClose(await readBack(b, dx), expectedDx, 1e-4, 1e-5, 'dx');
    });
  }

  for (const [bias, relu] of [
    [true, true],
    [true, false],
    [false, true],
  ] as const) {
    it(`linear ${bias ? '+bias' : ''}${relu ? '+relu' : ''} on [7, 9]·[11, 9]ᵀ`, async () => {
      const [m, n, k] = [7, 11, 9];
      const xs = f32(randomNumbers(m * k, 21));
      const ws = f32(randomNumbers(n * k, 22));
      const bs = f32(randomNumbers(n, 23));
      const out = b.alloc(m * n, 'float32');
      b.kernels.linear({
        x: upload(b, xs),
        w: upload(b, ws),
        bias: bias ? upload(b, bs) : null,
        out,
        m,
        n,
        k,
        relu,
      });
      const expected: number[] = [];
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = bias ? bs[j] : 0;
          for (let p = 0; p < k; p++) s += xs[i * k + p] * ws[j * k + p];
          expected.push(relu ? Math.max(0, s) : s);
        }
      expectClose(await readBack(b, out), expected, 1e-5, 1e-5);
    });
  }

  it('softmaxCrossEntropy forward with ignoreIndex, long and short rows', async () => {
    for (const classes of [5, 200]) {
      const rows = 4;
      const ls = f32(randomNumbers(rows * classes, classes, -5, 5));
      ls[1] = 40; // a large logit must not overflow
      const ts = [1, -100, classes - 1, 0];
      const logits = upload(b, ls);
      const targets = upload(b, ts, 'int32');
      const { loss, shift, logSum } = softmaxCrossEntropyForward(b, logits, targets, rows, classes);
      const ref = refSoftmaxCrossEntropy(ls, ts, rows, classes);
      expectClose(await readBack(b, loss), ref.loss, 1e-5, 1e-5, `loss C=${classes}`);
      expectClose(await readBack(b, shift), ref.max, 0, 0, `shift C=${classes}`);
      expectClose(await readBack(b, logSum), ref.logSum, 1e-5, 1e-6, `logSum C=${classes}`);
    }
  });
});
