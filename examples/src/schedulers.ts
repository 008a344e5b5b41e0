/**
 * Builds the learning-rate schedule a config names, from `@nabla/optim`'s schedulers:
 * `step` → StepLR and `cosine` → CosineAnnealingLR, stepped once per epoch; `onecycle` →
 * OneCycleLR (peak at the config's lr), stepped after every batch; `constant` → none.
 */
import { CosineAnnealingLR, OneCycleLR, type Optimizer, StepLR } from '@nabla/optim';
import type { RunConfig } from './options.js';

/** A schedule and how often it steps. */
export interface RunSchedule {
  /** 'epoch': `step()` after every epoch; 'batch': after every optimizer step. */
  every: 'epoch' | 'batch';
  step(): void;
}

/** The schedule of `cfg` over `opt` (null for a constant rate); `stepsPerEpoch` sizes OneCycleLR. */
export function makeSchedule(opt: Optimizer<any>, cfg: RunConfig, stepsPerEpoch: number): RunSchedule | null {
  const s = cfg.schedule;
  switch (s.type) {
    case 'step': {
      const sched = new StepLR(opt, { stepSize: s.stepSize, gamma: s.gamma });
      return { every: 'epoch', step: () => sched.step() };
    }
    case 'cosine': {
      const sched = new CosineAnnealingLR(opt, { tMax: Math.max(1, cfg.epochs), etaMin: s.minLr });
      return { every: 'epoch', step: () => sched.step() };
    }
    case 'onecycle': {
      const sched = new OneCycleLR(opt, {
        maxLr: cfg.optimizer.lr,
        totalSteps: Math.max(1, cfg.epochs * stepsPerEpoch),
        pctStart: s.pctStart,
        cycleMomentum: cfg.optimizer.name !== 'sgd' || cfg.optimizer.momentum > 0,
      });
      return { every: 'batch', step: () => sched.step() };
    }
    default:
      return null;
  }
}
