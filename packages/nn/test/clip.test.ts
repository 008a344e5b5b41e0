/** clipGradNorm (2, 1, 3 and Infinity norms) and clipGradValue against PyTorch 1.13. */
import { expectClose, useBackend } from '@nabla/conformance';
import { memory, type Tensor, tensor } from '@nabla/core';
import { type Fx, fromFx } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { clipGradNorm, clipGradValue } from '../src/index.js';
import { backendsReporting, fixture, named } from './helpers.js';

interface NormCase {
  name: string;
  maxNorm: number;
  normType: number | 'inf';
  grads: Fx[];
  totalNorm: number;
  clipped: Fx[];
}
const fx = fixture<{ norm: NormCase[]; value: { clipValue: number; grads: Fx[]; clipped: Fx[] } }>('clip');
const names = await backendsReporting('clip');

function paramsWithGrads(grads: Fx[]): Tensor[] {
  return grads.map((g) => {
    const p = tensor(new Float32Array(g.data.length), { shape: g.shape, requiresGrad: true });
    p.mul(fromFx(g)).sum().backward(); // p.grad = g
    return p;
  });
}

describe.each(names)('gradient clipping on %s', (backend) => {
  it.each(named(fx.norm))('clipGradNorm %s', async (_n, c) => {
    await useBackend(backend);
    const params = paramsWithGrads(c.grads);
    const normType = c.normType === 'inf' ? Number.POSITIVE_INFINITY : c.normType;
    const total = clipGradNorm(params, c.maxNorm, { normType });
    await expectClose('clipGradNorm', `${c.name}: total norm`, total, c.totalNorm, { rtol: 2e-6 });
    for (const [i, p] of params.entries())
      await expectClose('clipGradNorm', `${c.name}: grad ${i}`, p.grad!, c.clipped[i], { rtol: 2e-6 });
  });

  it('clipGradValue', async () => {
    await useBackend(backend);
    const params = paramsWithGrads(fx.value.grads);
    clipGradValue(params, fx.value.clipValue);
    for (const [i, p] of params.entries())
      await expectClose('clipGradValue', `grad ${i}`, p.grad!, fx.value.clipped[i]);
  });

  it('parameters without a gradient are skipped; no gradients gives norm 0; nothing leaks', async () => {
    await useBackend(backend);
    const params = paramsWithGrads(fx.value.grads);
    const frozen = tensor([1, 2, 3], { requiresGrad: true });
    const before = memory().tensors;
    const total = clipGradNorm([...params, frozen], 1);
    expect(frozen.grad).toBeNull();
    total.dispose();
    clipGradValue([frozen], 0.1);
    expect(memory().tensors).toBe(before);
    expect(await clipGradNorm([frozen], 1).item()).toBe(0);
    expect(() => clipGradNorm(params, 1, { normType: -1 })).toThrow('normType must be positive');
  });
});
