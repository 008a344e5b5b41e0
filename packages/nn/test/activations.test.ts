/** Activation modules and functions against PyTorch 1.13, extremes included, and finite differences. */
import { expectClose, useBackend } from '@nabla/conformance';
import { setBackend, type Tensor, tensor } from '@nabla/core';
import { type Fx, fromFx, held } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import {
  functional as F,
  GELU,
  LeakyReLU,
  LogSoftmax,
  type Module,
  Sigmoid,
  SiLU,
  Softmax,
  Tanh,
} from '../src/index.js';
import { checkFiniteDifferences } from './finite-diff.js';
import { backendsReporting, fixture, named } from './helpers.js';

interface Case {
  name: string;
  fn: string;
  options: { approximate?: 'none' | 'tanh'; negativeSlope?: number };
  dim?: number;
  input: Fx;
  gradOutput: Fx;
  output: Fx;
  inputGrad: Fx;
}

const fx = fixture<{ pointwise: Case[]; softmax: Case[]; repr: Record<string, string> }>('activations');
const names = await backendsReporting('activations');

function moduleFor(c: Case): Module {
  switch (c.fn) {
    case 'sigmoid':
      return new Sigmoid();
    case 'tanh':
      return new Tanh();
    case 'gelu':
      return new GELU({ approximate: c.options.approximate });
    case 'leakyRelu':
      return new LeakyReLU({ negativeSlope: c.options.negativeSlope });
    case 'silu':
      return new SiLU();
    case 'softmax':
      return new Softmax({ dim: c.dim! });
    case 'logSoftmax':
      return new LogSoftmax({ dim: c.dim! });
    default:
      throw new Error(`unknown activation ${c.fn}`);
  }
}

describe.each(names)('activations on %s', (backend) => {
  it.each(named([...fx.pointwise, ...fx.softmax]))('%s', async (_n, c) => {
    await useBackend(backend);
    const x = fromFx(c.input, { requiresGrad: true });
    const y = moduleFor(c).forward(x);
    y.backward(fromFx(c.gradOutput));
    // Transcendentals: a few float32 ulps (the 1e-6 absolute floor covers values near 0).
    await expectClose('activations', `${c.name}: output`, y, c.output, { rtol: 1e-5, atol: 1e-6 });
    await expectClose('activations', `${c.name}: input grad`, x.grad!, c.inputGrad, {
      rtol: 1e-5,
      atol: 1e-6,
    });
    const out = await y.data();
    expect(
      out.every((v) => !Number.isNaN(v)),
      `${c.name}: no NaN`,
    ).toBe(true);
  });

  it('saturates exactly: sigmoid(±100), softmax of ±1000', async () => {
    await useBackend(backend);
    // sigmoid(-100) = 3.78e-44 is a float32 subnormal: backends that flush subnormals (wasm SIMD,
    // most GPUs) give 0, which is as saturated as float32 allows; never NaN, never negative.
    const [low, high] = await F.sigmoid(tensor([-100, 100])).data();
    expect(low >= 0 && low <= 4e-44).toBe(true);
    expect(high).toBe(1);
    const p = await F.softmax(tensor([[1000, -1000, 0]]), 1).data();
    expect([...p]).toEqual([1, 0, 0]);
  });

  it('functional forms equal the modules and leave nothing behind', async () => {
    await useBackend(backend);
    const x = tensor([[-2, -0.5, 0, 0.5, 3]]);
    const before = held().tensors;
    for (const [m, f] of [
      [new GELU(), (t: Tensor) => F.gelu(t)],
      [new GELU({ approximate: 'tanh' }), (t: Tensor) => F.gelu(t, { approximate: 'tanh' })],
      [new LeakyReLU({ negativeSlope: 0.2 }), (t: Tensor) => F.leakyRelu(t, 0.2)],
      [new SiLU(), (t: Tensor) => F.silu(t)],
    ] as const) {
      const a = m.forward(x);
      const b = f(x);
      expect([...(await a.data())]).toEqual([...(await b.data())]);
      a.dispose();
      b.dispose();
    }
    expect(held().tensors).toBe(before);
  });

  it('errors: bad GELU approximation, int input, missing softmax dim', async () => {
    await useBackend(backend);
    expect(() => new GELU({ approximate: 'fast' as 'none' })).toThrow(
      'approximate argument must be either none or tanh.',
    );
    expect(() => F.gelu(tensor(new Int32Array([1]), { shape: [1], dtype: 'int32' }))).toThrow('float32');
    expect(() => new Softmax(undefined as unknown as { dim: number })).toThrow('pass { dim }');
  });
});

describe('activations: PyTorch reprs and finite differences (cpu)', () => {
  it('reprs', () => {
    expect(new GELU().toString()).toBe(fx.repr.gelu);
    expect(new GELU({ approximate: 'tanh' }).toString()).toBe(fx.repr.geluTanh);
    expect(new LeakyReLU().toString()).toBe(fx.repr.leakyRelu);
    expect(new Softmax({ dim: 1 }).toString()).toBe(fx.repr.softmax);
    expect(new Sigmoid().toString()).toBe(fx.repr.sigmoid);
    expect(new SiLU().toString()).toBe(fx.repr.silu);
  });

  const xs = [-3.1, -1.2, -0.4, 0.3, 0.9, 2.5];
  it.each([
    ['gelu', (x: Tensor) => F.gelu(x)],
    ['gelu tanh', (x: Tensor) => F.gelu(x, { approximate: 'tanh' })],
    ['silu', (x: Tensor) => F.silu(x)],
    ['leakyRelu', (x: Tensor) => F.leakyRelu(x, 0.1)],
    ['softmax', (x: Tensor) => F.softmax(x, 1)],
    ['logSoftmax', (x: Tensor) => F.logSoftmax(x, 1)],
  ] as const)('%s gradient matches finite differences', async (name, f) => {
    await setBackend('cpu');
    await checkFiniteDifferences(name, f, xs, [2, 3]);
  });
});
