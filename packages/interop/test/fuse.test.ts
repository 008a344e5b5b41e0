import '@nabla/backend-cpu';
import { manualSeed, memory, randn, setBackend, tidy } from '@nabla/core';
import { BatchNorm1d, Dropout, Linear, Module, ReLU, Sequential } from '@nabla/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { fuseBatchNorm, load } from '../src/index.js';
import { fixtureBytes, makeMlp, maxAbsDiff } from './mlp.js';

beforeAll(async () => {
  await setBackend('cpu');
});

async function outputs(model: Module, x: ReturnType<typeof randn>): Promise<Float32Array> {
  const y = model.forward(x);
  const d = (await y.data()) as Float32Array;
  y.dispose();
  return d;
}

describe('fuseBatchNorm', () => {
  it('folds each BatchNorm1d after a Linear; outputs equal the unfused model within 1e-5', async () => {
    const model = makeMlp();
    await load(model, fixtureBytes('torch_mlp.safetensors')); // trained weights and running stats
    model.eval();
    const fused = fuseBatchNorm(model);
    expect(fused.training).toBe(false);
    expect([...fused].map((m) => m.constructor.name)).toEqual([
      'Linear',
      'ReLU',
      'Dropout',
      'Linear',
      'ReLU',
      'Linear',
    ]);
    manualSeed(1);
    const x = randn([32, 6], { mean: 0.5, std: 2 });
    const diff = maxAbsDiff(await outputs(fused, x), await outputs(model, x));
    console.log(`interop: fuseBatchNorm largest |fused - unfused| = ${diff}`);
    expect(diff).toBeLessThan(1e-5);
    // The fold is not the identity: the first Linear's weights changed.
    const w0 = await (model.at(0) as Linear).weight.data();
    expect(maxAbsDiff(await (fused.at(0) as Linear).weight.data(), w0)).toBeGreaterThan(1e-3);
    x.dispose();
    // Independent: disposing the fused copy leaves the original working.
    fused.dispose();
    expect(maxAbsDiff(await (model.at(0) as Linear).weight.data(), w0)).toBe(0);
    model.dispose();
  });

  it('handles no bias, no affine, nested Sequentials, and leaves an unfoldable BatchNorm alone', async () => {
    manualSeed(2);
    const model = new Sequential(
      new BatchNorm1d(4), // nothing before it: stays
      new Sequential(new Linear(4, 6, { bias: false }), new BatchNorm1d(6, { affine: false, eps: 1e-3 })),
      new ReLU(),
      new Linear(6, 3),
      new Dropout(0.3),
      new BatchNorm1d(3), // Dropout between: identity in eval, but not "directly follows"; stays
    );
    model.train();
    for (let i = 0; i < 4; i++) tidy(() => void model.forward(randn([16, 4], { mean: 2, std: 3 })));
    // Non-trivial affine parameters on the last norm.
    tidy(() => {
      const bn = model.at(5) as BatchNorm1d;
      bn.weight!.assign(randn([3]));
      bn.bias!.assign(randn([3]));
    });
    model.eval();
    const fused = fuseBatchNorm(model);
    expect(fused.toString()).toMatch(
      /\(0\): BatchNorm1d[\s\S]*\(1\): Sequential\(\n\s+\(0\): Linear\(in_features=4, out_features=6, bias=True\)\n\s+\)/,
    );
    const x = randn([10, 4], { mean: 2, std: 3 });
    expect(maxAbsDiff(await outputs(fused, x), await outputs(model, x))).toBeLessThan(1e-5);
    x.dispose();
    fused.dispose();
    model.dispose();
  });

  it('refuses a model in training mode and unknown layers', () => {
    const model = makeMlp();
    expect(() => fuseBatchNorm(model)).toThrow(/training mode .*call model.eval\(\) first/);
    class Custom extends Module {
      forward(x: ReturnType<typeof randn>) {
        return x;
      }
    }
    const odd = new Sequential(new Linear(2, 2), new Custom()).eval();
    expect(() => fuseBatchNorm(odd)).toThrow(/cannot copy layer '1' \(Custom\)/);
    model.dispose();
    odd.dispose();
  });

  it('frees its temporaries', () => {
    const model = makeMlp().eval();
    fuseBatchNorm(model).dispose();
    const before = memory().tensors;
    fuseBatchNorm(model).dispose();
    expect(memory().tensors).toBe(before);
    model.dispose();
  });
});
