/** The backend through core's public API: registration, ops, autograd, fused vs composed, memory. */
import {
  batchNormTrain,
  composedOnly,
  getBackend,
  linear,
  listBackends,
  manualSeed,
  memory,
  randint,
  randn,
  setBackend,
  softmaxCrossEntropy,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from '@nabla/core';
import { adamUpdate } from '@nabla/test-kit';
import { beforeAll, describe, expect, it } from 'vitest';
import '../src/index.js';

function maxDiff(a: Tensor, b: Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}

beforeAll(async () => {
  await setBackend('cpu');
});

describe('cpu backend through @nabla/core', () => {
  it('registers itself as cpu on import', () => {
    expect(listBackends()).toContain('cpu');
    expect(getBackend().name).toBe('cpu');
  });

  it('runs broadcasting, transposed views, reductions and dataSync', async () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = tensor([10, 20, 30]);
    expect(Array.from(a.add(b).dataSync())).toEqual([11, 22, 33, 14, 25, 36]);
    expect(Array.from(a.t().mul(2).dataSync())).toEqual([2, 8, 4, 10, 6, 12]);
    expect(Array.from(a.sum(0).dataSync())).toEqual([5, 7, 9]);
    expect(Array.from(a.argmax(1).dataSync())).toEqual([2, 2]);
    expect(await a.matmul(a.t()).array()).toEqual([
      [14, 32],
      [32, 77],
    ]);
  });

  it('back-propagates through matmul, relu and the fused loss', () => {
    const x = tensor([
      [1, -2],
      [0.5, 3],
    ]);
    const w = tensor(
      [
        [0.1, 0.2],
        [-0.3, 0.4],
        [0.5, -0.6],
      ],
      { requiresGrad: true },
    );
    const targets = tensor([2, 0], { dtype: 'int32' });
    const fused = softmaxCrossEntropy(linear(x, w, null, { relu: true }), targets).mean();
    fused.backward();
    const gFused = w.grad!.clone();
    w.zeroGrad();
    const composed = composedOnly(() => softmaxCrossEntropy(x.matmul(w.t()).relu(), targets).mean());
    composed.backward();
    expect(Math.abs(fused.itemSync() - composed.itemSync())).toBeLessThan(1e-6);
    expect(maxDiff(gFused, w.grad!)).toBeLessThan(1e-6);
  });

  it('fused batch norm agrees with the composed reference, forward and backward', () => {
    manualSeed(7);
    const x = randn([16, 3, 5]).mul(2).add(3).requiresGrad_();
    const gamma = tensor([1.5, -0.5, 2], { requiresGrad: true });
    const beta = tensor([0.1, 0.2, 0.3], { requiresGrad: true });
    // A random weighting: with Σ output² the x gradient would vanish analytically.
    const weights = randn([16, 3, 5]);
    const run = () => {
      const { output, mean, variance } = batchNormTrain(x, gamma, beta, 1e-5);
      output.mul(weights).sum().backward();
      const grads = [x.grad!.clone(), gamma.grad!.clone(), beta.grad!.clone()];
      for (const t of [x, gamma, beta]) t.zeroGrad();
      return { output, mean, variance, grads };
    };
    const f = run();
    const c = composedOnly(run);
    expect(maxDiff(f.mean, c.mean)).toBeLessThan(1e-5);
    expect(maxDiff(f.variance, c.variance)).toBeLessThan(1e-5);
    expect(maxDiff(f.output, c.output)).toBeLessThan(1e-4);
    f.grads.forEach((g, i) => {
      expect(maxDiff(g, c.grads[i]), `grad ${i}`).toBeLessThan(1e-4);
    });
  });

  it('trains a small classifier with Adam while memory stays flat', () => {
    manualSeed(3);
    const x = randn([64, 8]);
    const y = randint(0, 4, [64]);
    const w = randn([4, 8]).mul(0.1);
    const b = zeros([4]);
    const state = [w, b].map((p) => ({ p, m: zeros(p.shape), v: zeros(p.shape) }));
    for (const s of state) s.p.requiresGrad_();
    const lossAt = () =>
      tidy(() =>
        softmaxCrossEntropy(linear(x, w, b), y)
          .mean()
          .itemSync(),
      );
    const first = lossAt();
    let baseline: ReturnType<typeof memory> | null = null;
    for (let step = 1; step <= 30; step++) {
      tidy(() => {
        softmaxCrossEntropy(linear(x, w, b), y)
          .mean()
          .backward();
        for (const s of state) {
          adamUpdate(s.p, s.p.grad!, s.m, s.v, step, 0.05);
          s.p.zeroGrad();
        }
      });
      if (step === 5) baseline = memory();
    }
    const after = memory();
    expect(after.tensors).toBe(baseline!.tensors);
    expect(after.backends.cpu.bytes).toBe(baseline!.backends.cpu.bytes);
    expect(lossAt()).toBeLessThan(first * 0.8);
  });
});
