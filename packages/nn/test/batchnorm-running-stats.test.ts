/**
 * BatchNorm1d's running-statistics policy: one statistics kernel and one in-place pointwise
 * update per training forward (counted at the backend), and PyTorch's empty-batch behaviour
 * (checked against torch 1.13 by hand: empty output, statistics unchanged, batch counted,
 * zero weight and bias gradients), on every backend.
 */
import { backends, useBackend } from '@nabla/conformance';
import { full, getBackend, randn, tensor, tidy, zeros } from '@nabla/core';
import { countKernels } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { BatchNorm1d, functional as F } from '../src/index.js';

const names = await backends();

describe.each(names)('BatchNorm1d running statistics on %s', (backend) => {
  for (const momentum of [0.1, null]) {
    it(`a training forward is one statistics kernel and one running-stats program (momentum ${momentum})`, async () => {
      await useBackend(backend);
      const bn = new BatchNorm1d(16, { momentum });
      const x = randn([8, 16]);
      tidy(() => void bn.forward(x));
      const kernels = countKernels(getBackend(), () => tidy(() => void bn.forward(x)));
      // batchNormTrain, then num_batches_tracked += 1 and the running update (pointwise each).
      expect(kernels).toEqual({ batchNormTrain: 1, pointwise: 2 });
      expect(await bn.numBatchesTracked!.item()).toBe(2);
      bn.dispose();
      x.dispose();
    });
  }

  for (const shape of [
    [0, 3],
    [4, 3, 0],
  ]) {
    for (const momentum of [0.1, null]) {
      it(`an empty batch ${JSON.stringify(shape)} gives an empty output, keeps the statistics and counts the batch (momentum ${momentum})`, async () => {
        await useBackend(backend);
        const bn = new BatchNorm1d(3, { momentum });
        tidy(() => {
          bn.runningMean!.assign(full([3], 0.5));
          bn.runningVar!.assign(full([3], 2));
        });
        const x = zeros(shape, { requiresGrad: true });
        const y = bn.forward(x);
        expect(y.shape).toEqual(shape);
        tidy(() => y.sum().backward());
        expect(Array.from(await bn.runningMean!.data())).toEqual([0.5, 0.5, 0.5]);
        expect(Array.from(await bn.runningVar!.data())).toEqual([2, 2, 2]);
        expect(await bn.numBatchesTracked!.item()).toBe(1);
        expect(x.grad!.shape).toEqual(shape);
        for (const param of bn.parameters()) expect(Array.from(await param.grad!.data())).toEqual([0, 0, 0]);
        y.dispose();
        // A later batch follows PyTorch: with momentum null the factor is now 1/2.
        const x2 = tensor(new Float32Array([1, 2, 3, 3, 4, 5]), { shape: [2, 3] });
        tidy(() => void bn.forward(x2));
        const f = momentum ?? 0.5;
        const want = [2, 3, 4].map((m) => (1 - f) * 0.5 + f * m);
        const got = Array.from(await bn.runningMean!.data());
        got.forEach((v, i) => {
          expect(v).toBeCloseTo(want[i], 6);
        });
        // Unbiased variance of each pair (spread 2): 2, mixed in with the same factor.
        for (const v of await bn.runningVar!.data()) expect(v).toBeCloseTo((1 - f) * 2 + f * 2, 6);
        for (const t of [x, x2]) t.dispose();
        bn.dispose();
      });
    }
  }

  it('F.batchNorm on an empty batch leaves the given running statistics unchanged', async () => {
    await useBackend(backend);
    const rm = full([2], 0.25);
    const rv = full([2], 3);
    const y = F.batchNorm(zeros([0, 2]), { runningMean: rm, runningVar: rv, training: true });
    expect(y.shape).toEqual([0, 2]);
    expect(Array.from(await rm.data())).toEqual([0.25, 0.25]);
    expect(Array.from(await rv.data())).toEqual([3, 3]);
    for (const t of [y, rm, rv]) t.dispose();
  });
});
