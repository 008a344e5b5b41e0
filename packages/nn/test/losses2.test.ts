/**
 * BCEWithLogitsLoss, BCELoss, L1Loss, SmoothL1Loss, HuberLoss, NLLLoss and CrossEntropyLoss
 * on (N, C, d1, ...) against PyTorch 1.13; errors; finite differences of the new programs.
 */
import { expectClose, useBackend } from '@nabla/conformance';
import { memory, setBackend, type Tensor, tensor } from '@nabla/core';
import { type Fx, fromFx, intFromFx } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import {
  BCELoss,
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  functional as F,
  HuberLoss,
  L1Loss,
  type Module,
  NLLLoss,
  SmoothL1Loss,
} from '../src/index.js';
import { checkFiniteDifferences } from './finite-diff.js';
import { backendsReporting, fixture, named } from './helpers.js';

interface Case {
  name: string;
  reduction: 'mean' | 'sum' | 'none';
  input: Fx;
  target: Fx;
  gradOutput: Fx;
  loss: Fx;
  inputGrad: Fx;
  posWeight?: Fx;
  weight?: Fx;
  fn?: 'l1' | 'smoothL1' | 'huber';
  beta?: number;
  delta?: number;
  ignoreIndex?: number;
  labelSmoothing?: number;
}
const fx = fixture<{
  bceWithLogits: Case[];
  bce: Case[];
  regression: Case[];
  nll: Case[];
  crossEntropySpatial: Case[];
  errors: Record<string, string>;
}>('losses2');
const names = await backendsReporting('losses2');

async function check(family: string, c: Case, make: () => Module, intTarget = false, tol = {}) {
  const x = fromFx(c.input, { requiresGrad: true });
  const t = intTarget ? intFromFx(c.target) : fromFx(c.target);
  const loss = make().forward(x, t);
  loss.backward(c.reduction === 'none' ? fromFx(c.gradOutput) : undefined);
  await expectClose(family, `${c.name}: loss`, loss, c.loss, tol);
  await expectClose(family, `${c.name}: input grad`, x.grad!, c.inputGrad, tol);
  const values = await loss.data();
  expect(values.every(Number.isFinite), `${c.name}: finite`).toBe(true);
}

describe.each(names)('losses (issue 17) on %s', (backend) => {
  it.each(named(fx.bceWithLogits))('BCEWithLogitsLoss %s', async (_n, c) => {
    await useBackend(backend);
    await check('BCEWithLogitsLoss', c, () => {
      return new BCEWithLogitsLoss({
        reduction: c.reduction,
        posWeight: c.posWeight ? fromFx(c.posWeight) : null,
        weight: c.weight ? fromFx(c.weight) : null,
      });
    });
  });

  it.each(named(fx.bce))('BCELoss %s', async (_n, c) => {
    await useBackend(backend);
    await check(
      'BCELoss',
      c,
      () => new BCELoss({ reduction: c.reduction, weight: c.weight ? fromFx(c.weight) : null }),
    );
  });

  it.each(named(fx.regression))('%s', async (_n, c) => {
    await useBackend(backend);
    await check(c.fn!, c, () => {
      if (c.fn === 'l1') return new L1Loss({ reduction: c.reduction });
      if (c.fn === 'smoothL1') return new SmoothL1Loss({ reduction: c.reduction, beta: c.beta });
      return new HuberLoss({ reduction: c.reduction, delta: c.delta });
    });
  });

  it.each(named(fx.nll))('NLLLoss %s', async (_n, c) => {
    await useBackend(backend);
    await check(
      'NLLLoss',
      c,
      () =>
        new NLLLoss({
          reduction: c.reduction,
          ignoreIndex: c.ignoreIndex,
          weight: c.weight ? fromFx(c.weight) : null,
        }),
      true,
    );
  });

  it.each(named(fx.crossEntropySpatial))('CrossEntropyLoss (N, C, d...) %s', async (_n, c) => {
    await useBackend(backend);
    await check(
      'CrossEntropyLoss spatial',
      c,
      () => new CrossEntropyLoss({ reduction: c.reduction, labelSmoothing: c.labelSmoothing }),
      true,
    );
  });

  it("PyTorch's errors, thrown before anything is allocated", async () => {
    await useBackend(backend);
    const x31 = tensor(new Float32Array(3), { shape: [3, 1] });
    const t3 = tensor(new Float32Array(3), { shape: [3] });
    const x3 = tensor([0.1, 0.2, 0.3]);
    const logits = tensor(new Float32Array(6), { shape: [2, 3] });
    const badTarget = tensor(new Int32Array([0, 5]), { shape: [2], dtype: 'int32' });
    const spatial = tensor(new Float32Array(24), { shape: [2, 3, 4] });
    const spatialTarget = tensor(new Int32Array(10), { shape: [2, 5], dtype: 'int32' });
    const before = memory().tensors;
    expect(() => new BCEWithLogitsLoss().forward(x31, t3)).toThrow(fx.errors.bceWithLogitsShape);
    expect(() => new BCELoss().forward(x31, t3)).toThrow(fx.errors.bceShape);
    expect(() => new SmoothL1Loss({ beta: -1 }).forward(x3, x3)).toThrow(fx.errors.smoothL1Beta);
    expect(() => new HuberLoss({ delta: 0 }).forward(x3, x3)).toThrow(fx.errors.huberDelta);
    if (backend !== 'webgpu')
      expect(() => new NLLLoss().forward(logits, badTarget)).toThrow(fx.errors.nllOutOfBounds);
    expect(() => new CrossEntropyLoss().forward(spatial, spatialTarget)).toThrow(fx.errors.ceSpatialTarget);
    expect(() => new L1Loss({ reduction: 'avg' as 'mean' }).forward(x3, x3)).toThrow(
      'not a valid value for reduction',
    );
    expect(memory().tensors).toBe(before);
  });
});

describe('losses (issue 17): finite differences (cpu)', () => {
  const t = [0.2, 1, 0, 0.7, 0.5, 0.1];
  const probs = [0.3, 0.8, 0.15, 0.6, 0.45, 0.9];
  const target = () => tensor(new Float32Array(t), { shape: [2, 3] });
  it.each([
    [
      'bceWithLogits',
      (x: Tensor) => F.binaryCrossEntropyWithLogits(x, target(), { reduction: 'none' }),
      null,
    ],
    [
      'bceWithLogits posWeight',
      (x: Tensor) =>
        F.binaryCrossEntropyWithLogits(x, target(), { reduction: 'none', posWeight: tensor([0.5, 2, 3]) }),
      null,
    ],
    ['bce', (x: Tensor) => F.binaryCrossEntropy(x, target(), { reduction: 'none' }), probs],
    ['l1', (x: Tensor) => F.l1Loss(x, target(), 'none'), null],
    ['smoothL1 beta 0.5', (x: Tensor) => F.smoothL1Loss(x, target(), { reduction: 'none', beta: 0.5 }), null],
    ['huber delta 0.3', (x: Tensor) => F.huberLoss(x, target(), { reduction: 'none', delta: 0.3 }), null],
  ] as const)('%s gradient matches finite differences', async (name, f, xs) => {
    await setBackend('cpu');
    await checkFiniteDifferences(name, f, xs ? [...xs] : [-1.3, 0.4, 2.2, 0.1, -0.35, 1.7], [2, 3], {
      h: 1e-3,
      tol: 2e-2,
    });
  });
});
