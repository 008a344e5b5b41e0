/** Learning-rate schedulers against PyTorch 1.13: the rate of every group (and momentum) after each step. */
import '@nabla/backend-cpu';
import { setBackend, zeros } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam,
  CosineAnnealingLR,
  ExponentialLR,
  type LRScheduler,
  MultiStepLR,
  OneCycleLR,
  type OneCycleLROptions,
  ReduceLROnPlateau,
  SGD,
  StepLR,
} from '../src/index.js';
import { fixture } from './helpers.js';

interface Run {
  name: string;
  options: Record<string, unknown> & { type: string };
  initialLr: number[];
  lrs: number[][];
  momentum: number[];
  metrics: number[] | null;
}
const fx = fixture<{ runs: Run[]; errors: Record<string, string> }>('schedulers');

function optimizerFor(run: Run) {
  const groups = [
    { params: [zeros([2], { requiresGrad: true })] },
    { params: [zeros([1], { requiresGrad: true })], lr: 0.05 },
  ];
  return run.name.includes('adam')
    ? new Adam(groups, { lr: 0.1, betas: [0.9, 0.999] })
    : new SGD(groups, { lr: 0.1, momentum: 0.9 });
}

function schedulerFor(run: Run, opt: SGD | Adam): LRScheduler | ReduceLROnPlateau {
  const { type, ...o } = run.options;
  switch (type) {
    case 'StepLR':
      return new StepLR(opt, o as { stepSize: number; gamma: number });
    case 'MultiStepLR':
      return new MultiStepLR(opt, o as { milestones: number[]; gamma: number });
    case 'ExponentialLR':
      return new ExponentialLR(opt, o as { gamma: number });
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(opt, o as { tMax: number; etaMin: number });
    case 'OneCycleLR':
      return new OneCycleLR(opt, o as unknown as OneCycleLROptions);
    case 'ReduceLROnPlateau':
      return new ReduceLROnPlateau(opt, o);
    default:
      throw new Error(type);
  }
}

/** Values from a chain of float64 multiplications: equal to PyTorch's up to the last bits. */
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

describe('schedulers against PyTorch', () => {
  beforeAll(() => setBackend('cpu'));

  it.each(fx.runs.map((r): [string, Run] => [r.name, r]))('%s', (_n, run) => {
    const opt = optimizerFor(run);
    const sched = schedulerFor(run, opt);
    run.lrs.forEach((expected, i) => {
      opt.step();
      if (sched instanceof ReduceLROnPlateau) sched.step(run.metrics![i]);
      else sched.step();
      const got = sched.getLastLr();
      expect(
        got.every((v, k) => close(v, expected[k])),
        `step ${i + 1}: ${got} vs ${expected}`,
      ).toBe(true);
      expect(opt.paramGroups.map((g) => g.lr)).toEqual(got);
      const g0 = opt.paramGroups[0] as { momentum?: number; betas?: [number, number] };
      const m = g0.betas ? g0.betas[0] : g0.momentum!;
      expect(close(m, run.momentum[i]), `step ${i + 1}: momentum ${m} vs ${run.momentum[i]}`).toBe(true);
    });
  });

  it('stateDict/loadStateDict resumes a schedule exactly', () => {
    for (const run of fx.runs) {
      const a = optimizerFor(run);
      const sa = schedulerFor(run, a);
      const half = Math.floor(run.lrs.length / 2);
      for (let i = 0; i < half; i++) sa instanceof ReduceLROnPlateau ? sa.step(run.metrics![i]) : sa.step();
      const saved = JSON.parse(
        JSON.stringify(sa.stateDict(), (_k, v) => (v === Infinity ? 'Infinity' : v)),
        (_k, v) => (v === 'Infinity' ? Infinity : v),
      );
      const b = optimizerFor(run);
      const sb = schedulerFor(run, b);
      (b as SGD).loadStateDict((a as SGD).stateDict());
      sb.loadStateDict(saved);
      for (let i = half; i < run.lrs.length; i++) {
        if (sb instanceof ReduceLROnPlateau) sb.step(run.metrics![i]);
        else sb.step();
        expect(
          sb.getLastLr().every((v, k) => close(v, run.lrs[i][k])),
          `${run.name} step ${i + 1}`,
        ).toBe(true);
      }
    }
  });

  it('paramGroups[i].lr is readable and writable; schedules chain from the written value', () => {
    const opt = new SGD([{ params: [zeros([1], { requiresGrad: true })] }], { lr: 0.1 });
    const s = new ExponentialLR(opt, { gamma: 0.5 });
    opt.paramGroups[0].lr = 0.8;
    s.step();
    expect(opt.paramGroups[0].lr).toBe(0.4);
    expect(s.getLastLr()).toEqual([0.4]);
  });

  it("PyTorch's errors", () => {
    const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 2 });
    s.step();
    s.step();
    expect(() => s.step()).toThrow(fx.errors.oneCycleBeyond);
    expect(() => new ReduceLROnPlateau(opt, { factor: 1 })).toThrow(fx.errors.plateauFactor);
    const plain = new SGD([zeros([1], { requiresGrad: true })], { lr: 0.1 });
    expect(() => new OneCycleLR(plain, { maxLr: 1 })).toThrow('total_steps OR (epochs AND steps_per_epoch)');
  });
});
