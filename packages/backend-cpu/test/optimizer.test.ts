import type { AdamStepArgs, SgdStepArgs } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

const P0 = [1.0, -2.0, 0.5];
const GRADS = [
  [0.5, 0.25, -1.0],
  [-1.0, 0.75, 0.01],
  [0.2, -0.3, 0.0],
];

function runSgd(args: Omit<SgdStepArgs, 'firstStep'>): number[] {
  const { be, buf } = fixture();
  const p = buf(new Float32Array(P0));
  const mom = args.momentum === 0 ? null : be.alloc(3, 'float32');
  GRADS.forEach((g, i) => {
    be.sgdStep(p, buf(new Float32Array(g)), mom, { ...args, firstStep: i === 0 });
  });
  return Array.from(be.readSync(p));
}

function runAdam(args: Omit<AdamStepArgs, 'step'>): number[] {
  const { be, buf } = fixture();
  const p = buf(new Float32Array(P0));
  const [m, v, vMax] = [0, 1, 2].map(() => buf(new Float32Array(3)));
  GRADS.forEach((g, i) => {
    be.adamStep(p, buf(new Float32Array(g)), m, v, args.amsgrad ? vMax : null, { ...args, step: i + 1 });
  });
  return Array.from(be.readSync(p));
}

function expectNear(got: number[], want: number[]): void {
  got.forEach((g, i) => {
    expect(Math.abs(g - want[i]), `element ${i}: ${g} vs ${want[i]}`).toBeLessThan(2e-6);
  });
}

describe('cpu optimizer steps', () => {
  it('SGD first step by hand: buffer = g + wd·p, nesterov adds momentum·buffer', () => {
    const { be, buf } = fixture();
    const p = buf(new Float32Array([1, -2]));
    const mom = be.alloc(2, 'float32');
    const base = { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, firstStep: true };
    be.sgdStep(p, buf(new Float32Array([0.5, 0.25])), mom, { ...base, nesterov: false });
    // g' = [0.51, 0.23]; dampening is not applied on the first step.
    expectNear(Array.from(be.readSync(mom)), [0.51, 0.23]);
    expectNear(Array.from(be.readSync(p)), [0.949, -2.023]);
    // Second step: buf = 0.9·buf + 0.9·g'', g'' = g + 0.01·p = [0.50949, 0.22977].
    be.sgdStep(p, buf(new Float32Array([0.5, 0.25])), mom, { ...base, nesterov: false, firstStep: false });
    expectNear(Array.from(be.readSync(mom)), [0.917541, 0.413793]);
    expectNear(Array.from(be.readSync(p)), [0.8572459, -2.0643793]);
    const q = buf(new Float32Array([1, -2]));
    be.sgdStep(q, buf(new Float32Array([0.5, 0.25])), be.alloc(2, 'float32'), { ...base, nesterov: true });
    expectNear(Array.from(be.readSync(q)), [1 - 0.1 * 1.9 * 0.51, -2 - 0.1 * 1.9 * 0.23]);
  });

  it('Adam first step moves every coordinate by lr, whatever the gradient scale', () => {
    const { be, buf } = fixture();
    const p = buf(new Float32Array([1, 1, 1]));
    const [m, v] = [buf(new Float32Array(3)), buf(new Float32Array(3))];
    const args = {
      lr: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      decoupled: false,
      amsgrad: false,
    };
    be.adamStep(p, buf(new Float32Array([0.5, -1000, 1e-3])), m, v, null, { ...args, step: 1 });
    expectNear(Array.from(be.readSync(p)), [0.9, 1.1, 0.9]);
    expectNear(Array.from(be.readSync(m)), [0.05, -100, 1e-4]);
    // AdamW decays first: p = 1·(1 - 0.1·0.1) = 0.99, then the lr step.
    const q = buf(new Float32Array([1]));
    be.adamStep(q, buf(new Float32Array([0.5])), buf(new Float32Array(1)), buf(new Float32Array(1)), null, {
      ...args,
      weightDecay: 0.1,
      decoupled: true,
      step: 1,
    });
    expectNear(Array.from(be.readSync(q)), [0.89]);
  });

  // Reference values from torch 1.13 (torch.optim.SGD/Adam/AdamW, float32), three steps of GRADS from P0.
  it('SGD matches PyTorch over three steps', () => {
    expectNear(
      runSgd({ lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }),
      [1.03, -2.07, 0.599],
    );
    expectNear(
      runSgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: false }),
      [1.012274146080017, -2.158222198486328, 0.7662910223007202],
    );
    expectNear(
      runSgd({ lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true }),
      [1.0531684160232544, -2.2156269550323486, 0.8361469507217407],
    );
  });

  it('Adam, Adam+L2+amsgrad, AdamW and AdamW+amsgrad match PyTorch over three steps', () => {
    const base = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    expectNear(
      runAdam({ ...base, weightDecay: 0, decoupled: false, amsgrad: false }),
      [0.9532121419906616, -2.2354276180267334, 0.7174755930900574],
    );
    expectNear(
      runAdam({ ...base, weightDecay: 0.1, decoupled: false, amsgrad: true }),
      [0.9275558590888977, -2.1809935569763184, 0.7042368650436401],
    );
    expectNear(
      runAdam({ ...base, weightDecay: 0.1, decoupled: true, amsgrad: false }),
      [0.92513507604599, -2.1731181144714355, 0.6999725699424744],
    );
    expectNear(
      runAdam({
        lr: 0.05,
        beta1: 0.8,
        beta2: 0.99,
        eps: 1e-6,
        weightDecay: 0.2,
        decoupled: true,
        amsgrad: true,
      }),
      [0.9508908987045288, -2.0555477142333984, 0.5871206521987915],
    );
  });

  it('fails clearly when a needed state buffer is missing', () => {
    const { be, buf } = fixture();
    const p = buf(new Float32Array(2));
    const g = buf(new Float32Array(2));
    expect(() =>
      be.sgdStep(p, g, null, {
        lr: 1,
        momentum: 0.9,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        firstStep: true,
      }),
    ).toThrow(/no momentum buffer/);
    expect(() =>
      be.adamStep(p, g, buf(new Float32Array(2)), buf(new Float32Array(2)), null, {
        lr: 1,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0,
        decoupled: false,
        amsgrad: true,
        step: 1,
      }),
    ).toThrow(/amsgrad needs a vMax buffer/);
    expect(() =>
      be.sgdStep(p, buf(new Float32Array(1)), null, {
        lr: 1,
        momentum: 0,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        firstStep: true,
      }),
    ).toThrow(/sgdStep grad holds 1 elements, the kernel needs 2/);
  });
});
