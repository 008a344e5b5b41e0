/**
 * Cross-entropy's 'mean' forward, counted at the backend: the fused per-row loss, then one
 * reduction counting the rows not ignored and one summing the rows with the division as its
 * epilogue (it was a pointwise mask, two sums and a pointwise division: 2 kernels more).
 */
import { backends, useBackend } from '@nabla/conformance';
import { type Backend, countBackendCalls, getBackend, randn, tensor, tidy } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { functional as F } from '../src/index.js';

const names = await backends();

/** Counts the kernel calls made while `fn` runs, by kernel name. */
function countKernels(backend: Backend, fn: () => void): Record<string, number> {
  const counter = countBackendCalls(backend);
  try {
    fn();
    const { byMethod } = counter.snapshot();
    return Object.fromEntries(Object.entries(byMethod).filter(([k]) => k in backend.kernels));
  } finally {
    counter.stop();
  }
}

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
});
