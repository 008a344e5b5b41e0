/**
 * Cross-entropy's 'mean' forward, counted at the backend: the fused per-row loss, then one
 * reduction counting the rows not ignored and one summing the rows with the division as its
 * epilogue (it was a pointwise mask, two sums and a pointwise division: 2 kernels more); its
 * backward is one pointwise kernel after the seed, `g / count` folded in, with the same bits as
 * the per-row losses' mean taken as a separate node.
 */
import { backends, useBackend } from '@nabla/conformance';
import { getBackend, manualSeed, meanOverKeptRows, randn, type Tensor, tensor, tidy } from '@nabla/core';
import { countKernels } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { functional as F } from '../src/index.js';

const names = await backends();

describe.each(names)('crossEntropy kernels on %s', (backend) => {
  it("a 'mean' forward is the per-row loss and two reductions", async () => {
    await useBackend(backend);
    const logits = randn([5, 4]);
    const targets = tensor([1, -100, 3, 0, -100], { dtype: 'int32' });
    const kernels = countKernels(getBackend(), () => tidy(() => void F.crossEntropy(logits, targets)));
    expect(kernels).toEqual({ softmaxCrossEntropy: 1, reduce: 2 });
    // the value: the mean over the three rows not ignored
    const rows = tidy(() => F.crossEntropy(logits, targets, { reduction: 'none' }));
    const mean = tidy(() => F.crossEntropy(logits, targets));
    const r = await rows.data();
    expect(await mean.item()).toBeCloseTo((r[0] + r[2] + r[3]) / 3, 5);
    rows.dispose();
    mean.dispose();
    logits.dispose();
    targets.dispose();
  });

  it("a 'mean' backward is one kernel after the seed, bit for bit the two-node mean", async () => {
    await useBackend(backend);
    const targets = tensor([1, -100, 3, 0, -100], { dtype: 'int32' });
    const gradOf = async (loss: (x: Tensor) => Tensor) => {
      manualSeed(7);
      const logits = randn([5, 4]).requiresGrad_();
      const l = loss(logits);
      const kernels = countKernels(getBackend(), () => l.backward());
      const grad = Array.from(await logits.grad!.data());
      l.dispose();
      logits.dispose();
      return { kernels, grad };
    };
    const fused = await gradOf((x) => F.crossEntropy(x, targets));
    expect(fused.kernels).toEqual({ fill: 1, pointwise: 1 });
    const twoNodes = await gradOf((x) =>
      tidy(() => meanOverKeptRows(F.crossEntropy(x, targets, { reduction: 'none' }), targets, -100)),
    );
    expect(twoNodes.kernels).toEqual({ fill: 1, pointwise: 2 });
    expect(fused.grad).toEqual(twoNodes.grad);
    expect(fused.grad.slice(4, 8)).toEqual([0, 0, 0, 0]); // an ignored row gets no gradient
    expect(fused.grad.some((v) => v !== 0)).toBe(true);
    targets.dispose();
  });
});
