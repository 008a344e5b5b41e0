/**
 * The update rules (`src/rules/`) on every backend: SGD and Adam/AdamW variants against float64
 * references over several steps (strided gradients included), one pointwise kernel per
 * parameter per step, and programs whose keys never change from step to step (every number is
 * a per-call scalar, even as the learning rate changes).
 */
import { backends, useBackend } from '@nabla/conformance';
import { type Backend, getBackend, type PointwiseArgs, type Tensor, tensor, tidy } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, SGD } from '../src/index.js';

const names = await backends();

/** A deterministic stream in [-1, 1). */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

const f32 = (xs: number[]) => xs.map(Math.fround);

/** `it.each` rows labelled by each case's JSON. */
const byJson = <C>(cases: readonly C[]) => cases.map((c) => [JSON.stringify(c), c] as const);

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-5 + 1e-4 * Math.abs(want[i]);
    if (!(Math.abs(got[i] - want[i]) <= tol))
      throw new Error(`${label}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

/** Records the programs the backend's pointwise kernel runs while `fn` runs. */
function recordPrograms(fn: () => void): PointwiseArgs[] {
  const backend: Backend = getBackend();
  const original = backend.kernels;
  const seen: PointwiseArgs[] = [];
  const pointwise = (args: PointwiseArgs) => {
    seen.push(args);
    original.pointwise(args);
  };
  Object.defineProperty(backend, 'kernels', { value: { ...original, pointwise } });
  try {
    fn();
  } finally {
    Object.defineProperty(backend, 'kernels', { value: original });
  }
  return seen;
}

interface SgdCase {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

interface AdamCase {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  decoupled: boolean;
}

describe.each(names)('update rules on %s', (backend) => {
  const sgdCases: SgdCase[] = [
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0.05, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: false },
    { lr: 0.05, momentum: 0.8, dampening: 0, weightDecay: 0, nesterov: true },
  ];
  it.each(byJson(sgdCases))('SGD %s over 3 steps vs float64', async (_, c) => {
    await useBackend(backend);
    const r = stream(85);
    const p0 = f32(Array.from({ length: 12 }, r));
    const grads = [0, 1, 2].map(() => f32(Array.from({ length: 12 }, r)));
    const ref = [...p0];
    const buf = new Array(12).fill(0);
    const p = tensor(Float32Array.from(p0), { shape: [3, 4], requiresGrad: true });
    const opt = new SGD([p], c);
    for (const [s, g] of grads.entries()) {
      for (let i = 0; i < 12; i++) {
        let d = g[i] + c.weightDecay * ref[i];
        if (c.momentum !== 0) {
          buf[i] = s === 0 ? d : c.momentum * buf[i] + (1 - c.dampening) * d;
          d = c.nesterov ? d + c.momentum * buf[i] : buf[i];
        }
        ref[i] -= c.lr * d;
      }
      // The gradient is a transposed view: the rule reads strided gradients.
      const stored = tidy(() =>
        tensor(Float32Array.from(g), { shape: [3, 4] })
          .t()
          .contiguous(),
      );
      p.grad = stored.t();
      stored.dispose();
      opt.step();
    }
    expectClose(await p.data(), ref, `sgd ${JSON.stringify(c)}`);
    if (c.momentum !== 0)
      expectClose(await (opt.state.get(p)!.momentumBuffer as Tensor).data(), buf, 'buffer');
    opt.dispose();
    p.dispose();
  });

  const adamCases: AdamCase[] = [
    { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, decoupled: false },
    { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.05, amsgrad: true, decoupled: false },
    { lr: 0.02, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: false, decoupled: true },
    { lr: 0.02, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0, amsgrad: true, decoupled: true },
  ];
  it.each(byJson(adamCases))('Adam %s over 4 steps vs float64', async (_, c) => {
    await useBackend(backend);
    const r = stream(86);
    const p0 = f32(Array.from({ length: 7 }, r));
    const grads = [0, 1, 2, 3].map((s) => f32(Array.from({ length: 7 }, () => r() / (s + 1))));
    const ref = [...p0];
    const [m, v, vMax] = [0, 1, 2].map(() => new Array(7).fill(0));
    const p = tensor(Float32Array.from(p0), { requiresGrad: true });
    const { decoupled, ...options } = c;
    const opt = decoupled ? new AdamW([p], options) : new Adam([p], options);
    for (const [s, g] of grads.entries()) {
      const step = s + 1;
      const [b1, b2] = c.betas;
      for (let i = 0; i < 7; i++) {
        let d = g[i];
        if (decoupled) ref[i] *= 1 - c.lr * c.weightDecay;
        else d += c.weightDecay * ref[i];
        m[i] = b1 * m[i] + (1 - b1) * d;
        v[i] = b2 * v[i] + (1 - b2) * d * d;
        vMax[i] = Math.max(vMax[i], v[i]);
        const second = c.amsgrad ? vMax[i] : v[i];
        ref[i] -=
          (c.lr / (1 - b1 ** step)) * (m[i] / (Math.sqrt(second) / Math.sqrt(1 - b2 ** step) + c.eps));
      }
      p.grad = tensor(Float32Array.from(g));
      opt.step();
    }
    const label = `adam ${JSON.stringify(c)}`;
    expectClose(await p.data(), ref, label);
    const state = opt.state.get(p)!;
    expectClose(await (state.expAvg as Tensor).data(), m, `${label} m`);
    expectClose(await (state.expAvgSq as Tensor).data(), v, `${label} v`);
    if (c.amsgrad) expectClose(await (state.maxExpAvgSq as Tensor).data(), vMax, `${label} vMax`);
    opt.dispose();
    p.dispose();
  });

  it('one kernel per parameter per step, with program keys that never change between steps', async () => {
    await useBackend(backend);
    const params = [tensor([1, 2, 3], { requiresGrad: true }), tensor([[1, 2]], { requiresGrad: true })];
    for (const [make, firstCount] of [
      [() => new SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), 2],
      [() => new Adam(params, { lr: 0.01, amsgrad: true }), 1],
      [() => new AdamW(params, { lr: 0.01 }), 1],
    ] as const) {
      const opt = make();
      const keys: string[][] = [];
      for (let step = 0; step < 4; step++) {
        for (const p of params) p.grad = tidy(() => p.mul(0.5).add(step));
        opt.lr = 0.1 / (step + 1); // a scheduler's change is a scalar, not a new program
        const runs = recordPrograms(() => opt.step());
        expect(runs.length).toBe(params.length);
        keys.push(runs.map((a) => a.program.key));
      }
      // SGD's first step has its own program (the buffer becomes the gradient); after it, none changes.
      expect(new Set(keys.slice(firstCount === 2 ? 1 : 0).flat()).size).toBe(1);
      opt.dispose();
    }
    for (const p of params) p.dispose();
  });

  it('a gradient of another shape is refused before anything changes', async () => {
    await useBackend(backend);
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1 });
    p.grad = tensor([1]);
    expect(() => opt.step()).toThrow('sgd: grad has shape [1] but the parameter has shape [3]');
    expect(Array.from(await p.data())).toEqual([1, 2, 3]);
    opt.dispose();
    p.dispose();
  });
});
