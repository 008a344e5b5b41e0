/** Fused kernels (batch norm, linear, softmax cross-entropy, optimizer steps) against float64 references. */
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, f32, openBackend, randomArray, readAll, upload } from './helpers.js';

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
      const xs = f32(randomArray(n * c * l, n + c, -0.05, 0.05).map((v) => 1e4 + v));
      const gs = f32(randomArray(c, 3, 0.5, 1.5));
      const bs = f32(randomArray(c, 4));
      const x = upload(b, xs);
      const gamma = affine ? upload(b, gs) : null;
      const beta = affine ? upload(b, bs) : null;
      const out = b.alloc(n * c * l, 'float32');
      const mean = b.alloc(c, 'float32');
      const invStd = b.alloc(c, 'float32');
      b.batchNormTrain(x, gamma, beta, out, mean, invStd, { n, c, l }, eps);
      const st = channelStats(xs, n, c, l);
      const inv = st.variance.map((v) => 1 / Math.sqrt(v + eps));
      expectClose(await readAll(b, mean), st.mean, 1e-7, 1e-4, 'mean');
      expectClose(await readAll(b, invStd), inv, 1e-4, 0, 'invStd');
      const expected = xs.map((v, i) => {
        const ch = Math.floor(i / l) % c;
        const y = (v - st.mean[ch]) * inv[ch];
        return affine ? y * gs[ch] + bs[ch] : y;
      });
      expectClose(await readAll(b, out), expected, 1e-4, 1e-5, 'out');
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
      const xs = f32(randomArray(n * c * l, 11, -spread, spread).map((v) => offset + v));
      const dys = f32(randomArray(n * c * l, 12));
      const gs = f32(randomArray(c, 13, 0.5, 2));
      const st = channelStats(xs, n, c, l);
      const inv = f32(st.variance.map((v) => 1 / Math.sqrt(v + 1e-5)));
      const means = st.mean; // float64: the reference must not inherit a float32 mean's rounding
      const dx = b.alloc(n * c * l, 'float32');
      const dgamma = b.alloc(c, 'float32');
      const dbeta = b.alloc(c, 'float32');
      b.batchNormBackward(
        upload(b, dys),
        upload(b, xs),
        upload(b, f32(means)),
        upload(b, inv),
        affine ? upload(b, gs) : null,
        dx,
        dgamma,
        dbeta,
        { n, c, l },
      );
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
      expectClose(await readAll(b, dbeta), sdy, 1e-5, 1e-5, 'dbeta');
      expectClose(await readAll(b, dgamma), sdyx, 1e-5, 1e-5, 'dgamma');
      expectClose(await readAll(b, dx), expectedDx, 1e-4, 1e-5, 'dx');
    });
  }

  for (const [bias, relu] of [
    [true, true],
    [true, false],
    [false, true],
  ] as const) {
    it(`linear ${bias ? '+bias' : ''}${relu ? '+relu' : ''} on [7, 9]·[11, 9]ᵀ`, async () => {
      const [m, n, k] = [7, 11, 9];
      const xs = f32(randomArray(m * k, 21));
      const ws = f32(randomArray(n * k, 22));
      const bs = f32(randomArray(n, 23));
      const out = b.alloc(m * n, 'float32');
      b.linear(upload(b, xs), upload(b, ws), bias ? upload(b, bs) : null, out, m, n, k, relu);
      const expected: number[] = [];
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = bias ? bs[j] : 0;
          for (let p = 0; p < k; p++) s += xs[i * k + p] * ws[j * k + p];
          expected.push(relu ? Math.max(0, s) : s);
        }
      expectClose(await readAll(b, out), expected, 1e-5, 1e-5);
    });
  }

  it('softmaxCrossEntropy forward and backward with ignoreIndex, long and short rows', async () => {
    for (const classes of [5, 200]) {
      const rows = 4;
      const ls = f32(randomArray(rows * classes, classes, -5, 5));
      ls[1] = 40; // a large logit must not overflow
      const ts = [1, -100, classes - 1, 0];
      const gs = f32([0.5, 1, -2, 1]);
      const logits = upload(b, ls);
      const targets = upload(b, ts, 'int32');
      const loss = b.alloc(rows, 'float32');
      const lse = b.alloc(rows, 'float32');
      b.softmaxCrossEntropy(logits, targets, loss, lse, rows, classes, -100);
      const refLse: number[] = [];
      const refLoss: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = ls.slice(r * classes, (r + 1) * classes);
        const mx = Math.max(...row);
        const z = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
        refLse.push(z);
        refLoss.push(ts[r] === -100 ? 0 : z - row[ts[r]]);
      }
      expectClose(await readAll(b, loss), refLoss, 1e-5, 1e-5, `loss C=${classes}`);
      const dl = b.alloc(rows * classes, 'float32');
      b.softmaxCrossEntropyBackward(logits, targets, lse, upload(b, gs), dl, rows, classes, -100);
      const refD = ls.map((v, i) => {
        const r = Math.floor(i / classes);
        if (ts[r] === -100) return 0;
        return gs[r] * (Math.exp(v - refLse[r]) - (i % classes === ts[r] ? 1 : 0));
      });
      expectClose(await readAll(b, dl), refD, 1e-4, 1e-6, `dlogits C=${classes}`);
    }
  });

  it('sgdStep follows PyTorch (weight decay, dampened momentum, nesterov, first step)', async () => {
    for (const nesterov of [false, true]) {
      const size = 300;
      const ps = f32(randomArray(size, 31));
      const grads = [f32(randomArray(size, 32)), f32(randomArray(size, 33)), f32(randomArray(size, 34))];
      const args = { lr: 0.1, momentum: 0.9, dampening: nesterov ? 0 : 0.2, weightDecay: 0.01, nesterov };
      const param = upload(b, ps);
      const buf = b.alloc(size, 'float32');
      const ref = [...ps];
      const refBuf = new Array(size).fill(0);
      grads.forEach((g, step) => {
        b.sgdStep(param, upload(b, g), buf, { ...args, firstStep: step === 0 });
        for (let i = 0; i < size; i++) {
          let d = g[i] + args.weightDecay * ref[i];
          refBuf[i] = step === 0 ? d : args.momentum * refBuf[i] + (1 - args.dampening) * d;
          d = nesterov ? d + args.momentum * refBuf[i] : refBuf[i];
          ref[i] -= args.lr * d;
        }
      });
      expectClose(await readAll(b, param), ref, 1e-5, 1e-6, `param nesterov=${nesterov}`);
      expectClose(await readAll(b, buf), refBuf, 1e-5, 1e-6, 'momentum buffer');
    }
    // Plain SGD, no momentum buffer.
    const p = upload(b, [1, 2]);
    b.sgdStep(p, upload(b, [0.5, -1]), null, {
      lr: 0.5,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      firstStep: true,
    });
    expect(await readAll(b, p)).toEqual([0.75, 2.5]);
  });

  for (const [decoupled, amsgrad] of [
    [false, false],
    [true, true],
  ] as const) {
    it(`adamStep follows PyTorch (${decoupled ? 'AdamW' : 'Adam + L2'}${amsgrad ? ', amsgrad' : ''})`, async () => {
      const size = 50;
      const ps = f32(randomArray(size, 41));
      const a = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled, amsgrad };
      const param = upload(b, ps);
      const m = b.alloc(size, 'float32');
      const v = b.alloc(size, 'float32');
      const vMax = amsgrad ? b.alloc(size, 'float32') : null;
      for (const buf of [m, v, vMax]) if (buf) b.fill(buf, 0);
      const ref = [...ps];
      const rm = new Array(size).fill(0);
      const rv = new Array(size).fill(0);
      const rvm = new Array(size).fill(0);
      for (let step = 1; step <= 3; step++) {
        // Shrinking gradients make v fall below its running max, so amsgrad changes the result.
        const g = f32(randomArray(size, 50 + step, -4 / step ** 2, 4 / step ** 2));
        b.adamStep(param, upload(b, g), m, v, vMax, { ...a, step });
        const bc1 = 1 - a.beta1 ** step;
        const bc2 = 1 - a.beta2 ** step;
        for (let i = 0; i < size; i++) {
          let gi = g[i];
          if (decoupled) ref[i] *= 1 - a.lr * a.weightDecay;
          else gi += a.weightDecay * ref[i];
          rm[i] = a.beta1 * rm[i] + (1 - a.beta1) * gi;
          rv[i] = a.beta2 * rv[i] + (1 - a.beta2) * gi * gi;
          rvm[i] = Math.max(rvm[i], rv[i]);
          const denom = Math.sqrt(amsgrad ? rvm[i] : rv[i]) / Math.sqrt(bc2) + a.eps;
          ref[i] -= (a.lr / bc1) * (rm[i] / denom);
        }
      }
      expectClose(await readAll(b, param), ref, 1e-5, 1e-6, 'param');
      expectClose(await readAll(b, m), rm, 1e-5, 1e-6, 'm');
      expectClose(await readAll(b, v), rv, 1e-4, 1e-7, 'v');
      if (vMax) expectClose(await readAll(b, vMax), rvm, 1e-4, 1e-7, 'vMax');
    });
  }
});
