/**
 * Sequential's fused BatchNorm→ReLU: the same outputs, gradients, running statistics and
 * state dict as the modules applied one by one (bit for bit, eager and compiled, train and
 * eval), only exact `ReLU`s fused, and the saving counted at the backend on every backend.
 */
import { backends, useBackend } from '@nabla/conformance';
import {
  type Backend,
  type BackendCallCounts,
  compile,
  countBackendCalls,
  getBackend,
  manualSeed,
  noGrad,
  randint,
  randn,
  type Tensor,
  tidy,
} from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { BatchNorm1d, CrossEntropyLoss, Linear, type Module, ReLU, Sequential } from '../src/index.js';

const names = await backends();

/** Linear→BatchNorm1d→ReLU→Linear→BatchNorm1d→ReLU→Linear (the W5 shape at `widths`), seeded. */
function mlp(widths: readonly number[], seed: number): Sequential {
  manualSeed(seed);
  const [a, b, c, d] = widths;
  return new Sequential(
    new Linear(a, b),
    new BatchNorm1d(b),
    new ReLU(),
    new Linear(b, c),
    new BatchNorm1d(c, { momentum: null }),
    new ReLU(),
    new Linear(c, d),
  );
}

/** The modules of `seq` applied one by one: never fused. */
const oneByOne = (seq: Sequential, x: Tensor) => [...seq].reduce((y, m) => m.forward(y), x);

/** The bits of each float32 value (so -0, +0 and NaNs are told apart). */
async function bits(t: Tensor): Promise<number[]> {
  return Array.from(new Uint32Array(Float32Array.from(await t.data()).buffer));
}

/** Every parameter, gradient and buffer of `m` by name, as bits. */
async function everything(m: Module): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, p] of m.namedParameters()) {
    out[k] = await bits(p);
    if (p.grad) out[`${k}.grad`] = await bits(p.grad);
  }
  for (const [k, v] of Object.entries(m.stateDict())) out[`state ${k}`] = Array.from(await v.data());
  return out;
}

/** A training step: forward, cross-entropy, backward, then SGD in place (no optimizer package). */
function trainStep(model: Sequential, fused: boolean, x: Tensor, y: Tensor): Tensor {
  return tidy(() => {
    model.zeroGrad();
    const loss = new CrossEntropyLoss().forward(fused ? model.forward(x) : oneByOne(model, x), y);
    loss.backward();
    noGrad(() => {
      for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(0.1)));
    });
    return loss;
  });
}

/** Backend calls made while `fn` runs. */
function counted(backend: Backend, fn: () => void): BackendCallCounts {
  const counter = countBackendCalls(backend);
  try {
    fn();
    return counter.snapshot();
  } finally {
    counter.stop();
  }
}

describe.each(names)('Sequential BatchNorm→ReLU on %s', (backend) => {
  it('training steps, then eval: identical to the modules one by one, bit for bit', async () => {
    await useBackend(backend);
    const [fusedModel, plainModel] = [mlp([6, 5, 4, 3], 7), mlp([6, 5, 4, 3], 7)];
    const x = randn([8, 6]);
    const y = randint(0, 3, [8]);
    for (let step = 0; step < 3; step++) {
      const [a, b] = [trainStep(fusedModel, true, x, y), trainStep(plainModel, false, x, y)];
      expect(await bits(a), `loss at step ${step}`).toEqual(await bits(b));
      for (const t of [a, b]) t.dispose();
    }
    expect(await everything(fusedModel)).toEqual(await everything(plainModel));
    for (const m of [fusedModel, plainModel]) m.eval();
    const [a, b] = [fusedModel.forward(x), oneByOne(plainModel, x)];
    expect(await bits(a), 'eval output').toEqual(await bits(b));
    for (const t of [a, b, x, y]) t.dispose();
    for (const m of [fusedModel, plainModel]) m.dispose();
  });

  it('compiled: training steps and train/eval toggles match the eager modules one by one', async () => {
    await useBackend(backend);
    const [fusedModel, plainModel] = [mlp([6, 5, 4, 3], 8), mlp([6, 5, 4, 3], 8)];
    const x = randn([8, 6]);
    const y = randint(0, 3, [8]);
    const step = compile((xb: Tensor, yb: Tensor) => trainStep(fusedModel, true, xb, yb));
    const infer = compile((xb: Tensor) => noGrad(() => fusedModel.forward(xb)));
    for (let i = 0; i < 4; i++) {
      const [a, b] = [step(x, y), trainStep(plainModel, false, x, y)];
      expect(await bits(a), `loss at step ${i}`).toEqual(await bits(b));
      for (const t of [a, b]) t.dispose();
    }
    // train (running statistics updated), eval, train again: each mode its own capture
    for (const training of [true, false, true, false]) {
      for (const m of [fusedModel, plainModel]) m.train(training);
      const [a, b] = [infer(x), noGrad(() => oneByOne(plainModel, x))];
      expect(await bits(a), `forward, training=${training}`).toEqual(await bits(b));
      for (const t of [a, b]) t.dispose();
    }
    expect(infer.stats.captures, 'one capture per mode, then replays').toBe(2);
    expect(await everything(fusedModel)).toEqual(await everything(plainModel));
    for (const f of [step, infer]) f.dispose();
    for (const t of [x, y]) t.dispose();
    for (const m of [fusedModel, plainModel]) m.dispose();
  });

  it('a W5-style step (batch 32) makes 2 fewer kernels and allocations per BatchNorm→ReLU pair', async () => {
    await useBackend(backend);
    const model = mlp([32, 64, 64, 2], 9);
    const x = randn([32, 32]);
    const y = randint(0, 2, [32]);
    const run = (fused: boolean) => {
      trainStep(model, fused, x, y).dispose(); // warm: programs built, grads allocated
      return counted(getBackend(), () => trainStep(model, fused, x, y).dispose());
    };
    const [fused, plain] = [run(true), run(false)];
    // per pair: the forward relu and the backward relu mask, each a kernel and a buffer
    expect(plain.kernels - fused.kernels).toBe(4);
    expect(plain.allocs - fused.allocs).toBe(4);
    expect(plain.frees - fused.frees).toBe(4);
    expect(plain.calls - fused.calls).toBe(12);
    expect(fused.byMethod.batchNormTrain).toBe(2);
    expect(fused.byMethod.batchNormBackward).toBe(2);
    // a compiled step's replay keeps the saving
    const replay = (fused: boolean) => {
      const step = compile((xb: Tensor, yb: Tensor) => trainStep(model, fused, xb, yb));
      for (let i = 0; i < 2; i++) step(x, y).dispose();
      const c = counted(getBackend(), () => step(x, y).dispose());
      step.dispose();
      return c;
    };
    const [fusedReplay, plainReplay] = [replay(true), replay(false)];
    expect(plainReplay.kernels - fusedReplay.kernels).toBe(4);
    expect(fusedReplay.allocs + fusedReplay.frees).toBe(0);
    for (const t of [x, y]) t.dispose();
    model.dispose();
  });

  it('fuses only an exact ReLU after a BatchNorm with the stock forward', async () => {
    await useBackend(backend);
    class Doubling extends ReLU {
      override forward(x: Tensor): Tensor {
        return x.mul(2);
      }
    }
    class SameReLU extends ReLU {}
    class LoudBatchNorm extends BatchNorm1d {
      override forward(x: Tensor): Tensor {
        return super.forward(x).add(1);
      }
    }
    const x = randn([8, 3]);
    const replaced = () => Object.assign(new ReLU(), { forward: (t: Tensor) => t.neg() });
    const cases: [string, () => [Module, Module], boolean][] = [
      ['ReLU', () => [new BatchNorm1d(3), new ReLU()], true],
      ['a ReLU subclass with its own forward', () => [new BatchNorm1d(3), new Doubling()], false],
      ['a ReLU subclass', () => [new BatchNorm1d(3), new SameReLU()], false],
      ['a ReLU whose forward was replaced', () => [new BatchNorm1d(3), replaced()], false],
      ['a BatchNorm subclass with its own forward', () => [new LoudBatchNorm(3), new ReLU()], false],
    ];
    for (const [label, make, fuses] of cases) {
      const seq = new Sequential(...make());
      const twin = new Sequential(...make());
      let out: Tensor | undefined;
      let ref: Tensor | undefined;
      const fused = counted(getBackend(), () => {
        out = seq.forward(x);
      });
      const plain = counted(getBackend(), () => {
        ref = oneByOne(twin, x);
      });
      expect(await bits(out!), `${label}: output`).toEqual(await bits(ref!));
      expect(plain.kernels - fused.kernels, `${label}: kernels saved`).toBe(fuses ? 1 : 0);
      expect(await everything(seq), `${label}: state`).toEqual(await everything(twin));
      for (const t of [out!, ref!]) t.dispose();
      for (const m of [seq, twin]) m.dispose();
    }
    x.dispose();
  });
});
