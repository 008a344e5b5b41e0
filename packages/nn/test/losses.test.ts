/** CrossEntropyLoss and MSELoss forward and backward against PyTorch 1.13. */
import { expectClose, useBackend } from '@nabla/conformance';
import { tensor } from '@nabla/core';
import { fromFx, intFromFx } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { CrossEntropyLoss, MSELoss } from '../src/index.js';
import { backendsReporting, fixture, named } from './helpers.js';

const fx = fixture('losses');
const names = await backendsReporting('losses');

describe.each(names)('losses on %s', (backend) => {
  it.each(named(fx.crossEntropy as any[]))('CrossEntropyLoss %s', async (_n, c: any) => {
    await useBackend(backend);
    const lossFn = new CrossEntropyLoss({
      reduction: c.reduction,
      labelSmoothing: c.labelSmoothing,
      ignoreIndex: c.ignoreIndex,
    });
    const logits = fromFx(c.logits, { requiresGrad: true });
    const loss = lossFn.forward(logits, intFromFx(c.targets));
    loss.backward(c.reduction === 'none' ? fromFx(c.gradOutput) : undefined);
    await expectClose('CrossEntropyLoss', `${c.name}: loss`, loss, c.loss);
    await expectClose('CrossEntropyLoss', `${c.name}: logits grad`, logits.grad!, c.logitsGrad);
  });

  it('CrossEntropyLoss: mean over no valid rows is NaN, as in PyTorch', async () => {
    await useBackend(backend);
    expect(fx.crossEntropyAllIgnoredMean).toBe('nan');
    const logits = fromFx(fx.crossEntropy[0].logits);
    const targets = tensor(new Int32Array(logits.shape[0]).fill(-100), {
      shape: [logits.shape[0]],
      dtype: 'int32',
    });
    expect(Number.isNaN(await new CrossEntropyLoss().forward(logits, targets).item())).toBe(true);
  });

  it('CrossEntropyLoss: clear errors for bad targets', async () => {
    await useBackend(backend);
    const logits = tensor(new Float32Array(6), { shape: [2, 3] });
    expect(() =>
      new CrossEntropyLoss().forward(logits, tensor(new Int32Array(3), { shape: [3], dtype: 'int32' })),
    ).toThrow('Expected input batch_size (2) to match target batch_size (3).');
    expect(() => new CrossEntropyLoss().forward(logits, tensor([0, 1]))).toThrow(
      'expected int32 class-index targets, got float32',
    );
    expect(() =>
      new CrossEntropyLoss().forward(logits, tensor(new Int32Array(2), { shape: [2, 1], dtype: 'int32' })),
    ).toThrow('0D or 1D target tensor expected, multi-target not supported');
  });

  it.each(named(fx.mse as any[]))('MSELoss %s', async (_n, c: any) => {
    await useBackend(backend);
    const input = fromFx(c.input, { requiresGrad: true });
    const loss = new MSELoss({ reduction: c.reduction }).forward(input, fromFx(c.target));
    loss.backward(c.reduction === 'none' ? fromFx(c.gradOutput) : undefined);
    await expectClose('MSELoss', `${c.name}: loss`, loss, c.loss);
    await expectClose('MSELoss', `${c.name}: input grad`, input.grad!, c.inputGrad);
  });
});
