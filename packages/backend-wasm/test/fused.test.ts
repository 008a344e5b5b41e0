import type { AdamStepArgs, SgdStepArgs } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../src/backend.js';
import { expectClose, randomF32, rng, upload } from './helpers.js';

/** float64 batch-norm statistics over N and L of (N, C, L). */
function refStats(X: Float32Array, n: number, c: number, l: number) {
  const mean = new Float64Array(c);
  const invStd = new Float64Array(c);
  const M = n * l;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let r = 0; r < n; r++) for (let i = 0; i < l; i++) s += X[(r * c + ch) * l + i] as number;
    const mu = s / M;
    let q = 0;
    for (let r = 0; r < n; r++)
      for (let i = 0; i < l; i++) q += ((X[(r * c + ch) * l + i] as number) - mu) ** 2;
    mean[ch] = mu;
    invStd[ch] = 1 / Math.sqrt(q / M + 1e-5);
  }
  return { mean, invStd };
}

for (const threads of [1, 2]) {
  describe(`fused kernels (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    let be: WasmBackend;
    beforeAll(async () => {
      be = await createWasmBackend({ threads });
    });
    afterAll(() => be.destroy());

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
          const [x, g, b, dy] = [upload(be, X), upload(be, G), upload(be, Bt), upload(be, DY)];
          const out = be.alloc(size, 'float32');
          const mean = be.alloc(c, 'float32');
          const inv = be.alloc(c, 'float32');
          const shape = { n, c, l };
          be.batchNormTrain(x, affine ? g : null, affine ? b : null, out, mean, inv, shape, 1e-5);
          const ref = refStats(X, n, c, l);
          expectClose(be.readSync(mean), ref.mean, 1e-7, 0);
          expectClose(be.readSync(inv), ref.invStd, 1e-4, 0);
          const refOut = new Float64Array(size);
          const xhat = new Float64Array(size);
          for (let i = 0; i < size; i++) {
            const ch = Math.floor(i / l) % c;
            xhat[i] = ((X[i] as number) - (ref.mean[ch] as number)) * (ref.invStd[ch] as number);
            refOut[i] = affine ? xhat[i] * (G[ch] as number) + (Bt[ch] as number) : xhat[i];
          }
          expectClose(be.readSync(out), refOut, 1e-4, 2e-4);

          const dx = be.alloc(size, 'float32');
          const dg = be.alloc(c, 'float32');
          const db = be.alloc(c, 'float32');
          be.batchNormBackward(dy, x, mean, inv, affine ? g : null, dx, dg, db, shape);
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
          expectClose(be.readSync(db), rdb, 1e-4, 1e-3);
          expectClose(be.readSync(dg), rdg, 1e-4, 1e-4);
          expectClose(be.readSync(dx), rdx, 1e-4, 1e-4);
          for (const t of [x, g, b, dy, out, mean, inv, dx, dg, db]) be.disposeBuffer(t);
        });
      }
    }

    for (const [rows, classes] of [
      [5, 3],
      [64, 10],
      [600, 130],
    ] as const) {
      it(`softmaxCrossEntropy forward/backward ${rows}x${classes} with ignoreIndex`, () => {
        const L = randomF32(rows * classes, rows, -8, 8);
        const r = rng(classes);
        const T = Int32Array.from({ length: rows }, (_, i) =>
          i % 4 === 1 ? -100 : Math.floor(r(0, classes)),
        );
        const Gl = randomF32(rows, 7, 0.5, 2);
        const [lg, tg, gl] = [upload(be, L), upload(be, T), upload(be, Gl)];
        const loss = be.alloc(rows, 'float32');
        const lse = be.alloc(rows, 'float32');
        const dl = be.alloc(rows * classes, 'float32');
        be.softmaxCrossEntropy(lg, tg, loss, lse, rows, classes, -100);
        be.softmaxCrossEntropyBackward(lg, tg, lse, gl, dl, rows, classes, -100);
        const rl: number[] = [];
        const rlse: number[] = [];
        const rdl: number[] = [];
        for (let i = 0; i < rows; i++) {
          const row = Array.from(L.subarray(i * classes, (i + 1) * classes));
          const mx = Math.max(...row);
          const s = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
          const t = T[i] as number;
          rlse.push(s);
          rl.push(t === -100 ? 0 : s - (row[t] as number));
          for (let j = 0; j < classes; j++) {
            rdl.push(
              t === -100 ? 0 : (Gl[i] as number) * (Math.exp((row[j] as number) - s) - (j === t ? 1 : 0)),
            );
          }
        }
        expectClose(be.readSync(lse), rlse, 1e-5, 1e-5);
        expectClose(be.readSync(loss), rl, 1e-5, 1e-5);
        expectClose(be.readSync(dl), rdl, 1e-4, 1e-6);
        for (const t of [lg, tg, gl, loss, lse, dl]) be.disposeBuffer(t);
      });
    }

    const sgdCases: Omit<SgdStepArgs, 'firstStep'>[] = [
      { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
      { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2, nesterov: false },
      { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 1e-3, nesterov: true },
    ];
    for (const [ci, base] of sgdCases.entries()) {
      it(`sgdStep case ${ci} over 3 steps matches PyTorch's rule`, () => {
        const n = ci === 2 ? 70_003 : 37; // the large one is split across threads
        const P = randomF32(n, 1);
        const p = upload(be, P);
        const buf = be.alloc(n, 'float32');
        const rp = Float64Array.from(P);
        const rb = new Float64Array(n);
        for (let step = 0; step < 3; step++) {
          const Gd = randomF32(n, 10 + step);
          const g = upload(be, Gd);
          const args = { ...base, firstStep: step === 0 };
          be.sgdStep(p, g, base.momentum ? buf : null, args);
          for (let i = 0; i < n; i++) {
            let gi = (Gd[i] as number) + base.weightDecay * (rp[i] as number);
            if (base.momentum) {
              rb[i] = step === 0 ? gi : base.momentum * (rb[i] as number) + (1 - base.dampening) * gi;
              gi = base.nesterov ? gi + base.momentum * (rb[i] as number) : (rb[i] as number);
            }
            rp[i] = (rp[i] as number) - base.lr * gi;
          }
          be.disposeBuffer(g);
        }
        expectClose(be.readSync(p), rp, 1e-5, 1e-6);
        be.disposeBuffer(p);
        be.disposeBuffer(buf);
      });
    }

    const adamCases: Omit<AdamStepArgs, 'step'>[] = [
      { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false },
      { lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, decoupled: false, amsgrad: true },
      { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, amsgrad: false },
    ];
    for (const [ci, base] of adamCases.entries()) {
      it(`adamStep case ${ci} over 4 steps matches PyTorch's rule`, () => {
        const n = ci === 2 ? 70_001 : 41;
        const P = randomF32(n, 5);
        const [p, m, v, vmax] = [
          upload(be, P),
          be.alloc(n, 'float32'),
          be.alloc(n, 'float32'),
          be.alloc(n, 'float32'),
        ];
        for (const t of [m, v, vmax]) be.fill(t, 0);
        const rp = Float64Array.from(P);
        const [rm, rv, rvm] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
        for (let step = 1; step <= 4; step++) {
          const Gd = randomF32(n, 20 + step);
          const g = upload(be, Gd);
          be.adamStep(p, g, m, v, base.amsgrad ? vmax : null, { ...base, step });
          const bc1 = 1 - base.beta1 ** step;
          const bc2 = 1 - base.beta2 ** step;
          for (let i = 0; i < n; i++) {
            let gi = Gd[i] as number;
            if (base.decoupled) rp[i] = (rp[i] as number) * (1 - base.lr * base.weightDecay);
            else gi += base.weightDecay * (rp[i] as number);
            rm[i] = base.beta1 * (rm[i] as number) + (1 - base.beta1) * gi;
            rv[i] = base.beta2 * (rv[i] as number) + (1 - base.beta2) * gi * gi;
            let vv = rv[i] as number;
            if (base.amsgrad) {
              rvm[i] = Math.max(rvm[i] as number, vv);
              vv = rvm[i] as number;
            }
            const denom = Math.sqrt(vv) / Math.sqrt(bc2) + base.eps;
            rp[i] = (rp[i] as number) - (base.lr / bc1) * ((rm[i] as number) / denom);
          }
          be.disposeBuffer(g);
        }
        expectClose(be.readSync(p), rp, 1e-5, 1e-6);
        expectClose(be.readSync(m), rm, 1e-4, 1e-7);
        expectClose(be.readSync(v), rv, 1e-4, 1e-9);
        for (const t of [p, m, v, vmax]) be.disposeBuffer(t);
      });
    }

    it('sgdStep with momentum but no buffer names the problem', () => {
      const p = be.alloc(4, 'float32');
      expect(() =>
        be.sgdStep(p, p, null, {
          lr: 1,
          momentum: 0.9,
          dampening: 0,
          weightDecay: 0,
          nesterov: false,
          firstStep: true,
        }),
      ).toThrow(/momentum buffer/);
      be.disposeBuffer(p);
    });
  });
}
