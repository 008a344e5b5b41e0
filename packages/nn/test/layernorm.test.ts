/** LayerNorm against PyTorch 1.13 (forward, input/weight/bias gradients), errors, keys, reprs. */
import { expectClose, useBackend } from '@nabla/conformance';
import { memory, setBackend, type Tensor, tensor } from '@nabla/core';
import { type Fx, fromFx, held } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { functional as F, LayerNorm } from '../src/index.js';
import { checkFiniteDifferences } from './finite-diff.js';
import { backendsReporting, fixture, type NormPass, named } from './helpers.js';

interface Case extends NormPass {
  name: string;
  normalizedShape: number[];
  eps: number;
  elementwiseAffine: boolean;
  weight: Fx | null;
  bias: Fx | null;
}
const fx = fixture<{
  cases: Case[];
  errors: Record<string, string>;
  stateDictKeys: string[];
  stateDictKeysNoAffine: string[];
  repr: Record<string, string>;
}>('layernorm');
const names = await backendsReporting('layernorm');

describe.each(names)('LayerNorm on %s', (backend) => {
  it.each(named(fx.cases))('%s', async (_n, c) => {
    await useBackend(backend);
    const ln = new LayerNorm(c.normalizedShape, { eps: c.eps, elementwiseAffine: c.elementwiseAffine });
    if (c.weight) ln.loadStateDict({ weight: fromFx(c.weight), bias: fromFx(c.bias!) });
    const x = fromFx(c.input, { requiresGrad: true });
    const y = ln.forward(x);
    y.backward(fromFx(c.gradOutput));
    // 'large magnitude' (1e4 ± 0.05) and 'constant row' have float64 references: the float32 input
    // itself carries 1e4·6e-8 = 5e-4 of rounding, 1% of the spread, so a few ulps more are allowed.
    const tol = c.name === 'large magnitude' ? { rtol: 1e-4, atol: 1e-4 } : { rtol: 2e-5, atol: 2e-6 };
    await expectClose('LayerNorm', `${c.name}: output`, y, c.output, tol);
    await expectClose('LayerNorm', `${c.name}: input grad`, x.grad!, c.inputGrad, {
      rtol: tol.rtol * 5,
      atol: tol.atol * 5,
    });
    if (c.weightGrad) {
      await expectClose(
        'LayerNorm',
        `${c.name}: weight grad`,
        (ln.weight as Tensor).grad!,
        c.weightGrad,
        tol,
      );
      await expectClose('LayerNorm', `${c.name}: bias grad`, (ln.bias as Tensor).grad!, c.biasGrad!, tol);
    }
    ln.dispose();
  });

  it("PyTorch's errors for a wrong trailing shape, before anything is allocated", async () => {
    await useBackend(backend);
    const ln = new LayerNorm(4);
    const ln2 = new LayerNorm([3, 4]);
    const x = tensor(new Float32Array(6), { shape: [2, 3] });
    const x2 = tensor(new Float32Array(24), { shape: [2, 4, 3] });
    const before = memory().tensors;
    expect(() => ln.forward(x)).toThrow(fx.errors.wrongTrailing);
    expect(() => ln2.forward(x2)).toThrow(fx.errors.wrongTrailing2);
    expect(memory().tensors).toBe(before);
  });

  it('train and eval give the same result; a step leaves no tensors behind', async () => {
    await useBackend(backend);
    const ln = new LayerNorm(5);
    const x = tensor([
      [1, 2, 3, 4, 6],
      [0, -1, 0, 1, 0.5],
    ]);
    const before = held().tensors; // not memory(): the reads await
    const ya = ln.forward(x);
    const a = await ya.data();
    ln.eval();
    const yb = ln.forward(x);
    const b = await yb.data();
    expect([...a]).toEqual([...b]);
    ya.dispose();
    yb.dispose();
    expect(held().tensors).toBe(before);
  });
});

describe('LayerNorm: keys, reprs, finite differences (cpu)', () => {
  it("state dict keys and reprs are PyTorch's", () => {
    expect(Object.keys(new LayerNorm([3, 4]).stateDict())).toEqual(fx.stateDictKeys);
    expect(Object.keys(new LayerNorm(3, { elementwiseAffine: false }).stateDict())).toEqual(
      fx.stateDictKeysNoAffine,
    );
    expect(new LayerNorm(6).toString()).toBe(fx.repr.default);
    expect(new LayerNorm([3, 4], { eps: 1e-3 }).toString()).toBe(fx.repr.twoDims);
    expect(new LayerNorm(3, { elementwiseAffine: false }).toString()).toBe(fx.repr.noAffine);
  });

  it('input gradient matches finite differences', async () => {
    await setBackend('cpu');
    const w = tensor([0.5, 1.5, -1]);
    const b = tensor([0.1, 0, 0.2]);
    await checkFiniteDifferences(
      'layerNorm',
      (x: Tensor) => F.layerNorm(x, [3], w, b),
      [0.3, -1.2, 2.0, 1.1, 0.4, -0.7],
      [2, 3],
      { h: 1e-2, tol: 3e-2 },
    );
  });
});
