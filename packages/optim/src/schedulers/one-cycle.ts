/** `OneCycleLR`: Smith's 1cycle policy, with the momentum cycled in the opposite direction. */
import type { BaseOptions, Optimizer } from '../optimizer.js';
import { LRScheduler } from './lr-scheduler.js';

/** Options of {@link OneCycleLR}; defaults are PyTorch's. */
export interface OneCycleLROptions {
  /** Peak learning rate, one per group or one for all. */
  maxLr: number | number[];
  /** Steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Share of the cycle spent rising (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear' interpolation. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD's `momentum`, Adam's `betas[0]`) inversely to the rate (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  /** Three phases (up, back down to the start rate, then to the final rate) instead of two (default false). */
  threePhase?: boolean;
  /** Start rate is `maxLr / divFactor` (default 25). */
  divFactor?: number;
  /** Final rate is the start rate `/ finalDivFactor` (default 1e4). */
  finalDivFactor?: number;
}

interface Phase {
  endStep: number;
  startLr: 'initialLr' | 'maxLr';
  endLr: 'maxLr' | 'minLr' | 'initialLr';
  startMomentum: 'maxMomentum' | 'baseMomentum';
  endMomentum: 'maxMomentum' | 'baseMomentum';
}

const annealCos = (start: number, end: number, pct: number) =>
  end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
const annealLinear = (start: number, end: number, pct: number) => (end - start) * pct + start;

/**
 * Rises from `maxLr / divFactor` to `maxLr` over `pctStart` of the cycle, then anneals to
 * `initial / finalDivFactor`; call `step()` after every batch. With `cycleMomentum` the
 * momentum goes from `maxMomentum` down to `baseMomentum` and back.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly annealStrategy: 'cos' | 'linear';
  readonly cycleMomentum: boolean;
  private readonly useBeta1: boolean;
  private readonly phases: Phase[];

  constructor(optimizer: Optimizer<BaseOptions>, options: OneCycleLROptions) {
    const groups = optimizer.paramGroups as unknown as Record<string, unknown>[];
    let total: number;
    if (options.totalSteps !== undefined) {
      if (!Number.isInteger(options.totalSteps) || options.totalSteps <= 0)
        throw new Error(`Expected positive integer total_steps, but got ${options.totalSteps}`);
      total = options.totalSteps;
    } else if (options.epochs !== undefined && options.stepsPerEpoch !== undefined) {
      if (!Number.isInteger(options.epochs) || options.epochs <= 0)
        throw new Error(`Expected positive integer epochs, but got ${options.epochs}`);
      if (!Number.isInteger(options.stepsPerEpoch) || options.stepsPerEpoch <= 0)
        throw new Error(`Expected positive integer steps_per_epoch, but got ${options.stepsPerEpoch}`);
      total = options.epochs * options.stepsPerEpoch;
    } else {
      throw new Error('You must define either total_steps OR (epochs AND steps_per_epoch)');
    }
    const pctStart = options.pctStart ?? 0.3;
    if (!(pctStart >= 0 && pctStart <= 1))
      throw new Error(`Expected float between 0 and 1 pct_start, but got ${pctStart}`);
    const anneal = options.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear')
      throw new Error(`anneal_strategy must by one of 'cos' or 'linear', instead got ${anneal}`);
    const maxLrs = Array.isArray(options.maxLr) ? options.maxLr : groups.map(() => options.maxLr as number);
    if (maxLrs.length !== groups.length)
      throw new Error(`expected ${groups.length} values for max_lr, got ${maxLrs.length}`);
    const divFactor = options.divFactor ?? 25;
    const finalDivFactor = options.finalDivFactor ?? 1e4;
    groups.forEach((g, i) => {
      const initial = maxLrs[i] / divFactor;
      g.initialLr = initial;
      g.maxLr = maxLrs[i];
      g.minLr = initial / finalDivFactor;
    });
    const cycleMomentum = options.cycleMomentum ?? true;
    const useBeta1 = cycleMomentum && groups.length > 0 && Array.isArray(groups[0].betas);
    if (cycleMomentum) {
      if (!useBeta1 && typeof groups[0].momentum !== 'number')
        throw new Error('optimizer must support momentum with `cycle_momentum` option enabled');
      const maxM = options.maxMomentum ?? 0.95;
      const baseM = options.baseMomentum ?? 0.85;
      for (const g of groups) {
        if (useBeta1) g.betas = [maxM, (g.betas as number[])[1]];
        else g.momentum = maxM;
        g.maxMomentum = maxM;
        g.baseMomentum = baseM;
      }
    }
    super(optimizer);
    this.totalSteps = total;
    this.annealStrategy = anneal;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    const up: Phase = {
      endStep: pctStart * total - 1,
      startLr: 'initialLr',
      endLr: 'maxLr',
      startMomentum: 'maxMomentum',
      endMomentum: 'baseMomentum',
    };
    this.phases = options.threePhase
      ? [
          up,
          {
            endStep: 2 * pctStart * total - 2,
            startLr: 'maxLr',
            endLr: 'initialLr',
            startMomentum: 'baseMomentum',
            endMomentum: 'maxMomentum',
          },
          {
            endStep: total - 1,
            startLr: 'initialLr',
            endLr: 'minLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'maxMomentum',
          },
        ]
      : [
          up,
          {
            endStep: total - 1,
            startLr: 'maxLr',
            endLr: 'minLr',
            startMomentum: 'baseMomentum',
            endMomentum: 'maxMomentum',
          },
        ];
    this.initialStep();
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      this.lastEpoch -= 1; // the failed step leaves the schedule where it was
      throw new Error(
        `Tried to step ${stepNum + 1} times. The specified number of total steps is ${this.totalSteps}`,
      );
    }
    const anneal = this.annealStrategy === 'cos' ? annealCos : annealLinear;
    return this.groups.map((g) => {
      let startStep = 0;
      let lr = g.lr;
      for (const [i, phase] of this.phases.entries()) {
        if (stepNum <= phase.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          lr = anneal(g[phase.startLr] as number, g[phase.endLr] as number, pct);
          if (this.cycleMomentum) {
            const m = anneal(g[phase.startMomentum] as number, g[phase.endMomentum] as number, pct);
            if (this.useBeta1) g.betas = [m, g.betas![1]];
            else g.momentum = m;
          }
          break;
        }
        startStep = phase.endStep;
      }
      return lr;
    });
  }
}
