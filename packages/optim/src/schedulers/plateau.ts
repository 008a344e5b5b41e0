/** `ReduceLROnPlateau`: lowers the learning rate when a watched metric stops improving. */
import type { BaseOptions, Optimizer } from '../optimizer.js';
import type { SchedulableGroup, SchedulerStateDict } from './lr-scheduler.js';

/** Options of {@link ReduceLROnPlateau}; defaults are PyTorch's. */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower is better (a loss); 'max': higher is better (an accuracy). */
  mode?: 'min' | 'max';
  /** New rate = rate · factor (default 0.1; must be < 1). */
  factor?: number;
  /** Steps without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** How much better counts as better (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound per group, or one for all (default 0). */
  minLr?: number | number[];
  /** Changes smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Call `step(metric)` once per evaluation. After more than `patience` steps without an
 * improvement of the best metric, every group's rate is multiplied by `factor` (not below
 * `minLr`), then `cooldown` steps pass before bad steps count again.
 */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer<BaseOptions>;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: Optimizer<BaseOptions>, options: ReduceLROnPlateauOptions = {}) {
    this.factor = options.factor ?? 0.1;
    if (!(this.factor < 1)) throw new Error('Factor should be < 1.0.');
    this.optimizer = optimizer;
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== n)
      throw new Error(`expected ${n} min_lrs, got ${minLr.length}`);
    this.minLrs = Array.isArray(minLr) ? [...minLr] : Array(n).fill(minLr);
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') throw new Error(`mode ${this.mode} is unknown!`);
    this.thresholdMode = options.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs')
      throw new Error(`threshold mode ${this.thresholdMode} is unknown!`);
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.lastLr = this.groups.map((g) => g.lr);
  }

  private get groups(): SchedulableGroup[] {
    return this.optimizer.paramGroups as unknown as SchedulableGroup[];
  }

  private isBetter(a: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min')
      return this.thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return this.thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  }

  /** Records one value of the watched metric and reduces the rates if it has plateaued. */
  step(metric: number): void {
    if (typeof metric !== 'number')
      throw new TypeError('ReduceLROnPlateau.step(metric): metric must be a number');
    this.lastEpoch += 1;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.groups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The learning rate of each group after the last {@link step}. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The schedule's counters and best value (JSON-safe except for an infinite `best`). */
  stateDict(): SchedulerStateDict {
    return {
      best: this.best,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLr: [...this.lastLr],
    };
  }

  /** Restores counters saved by {@link stateDict}. */
  loadStateDict(state: SchedulerStateDict): void {
    this.best = state.best as number;
    this.numBadEpochs = state.numBadEpochs as number;
    this.cooldownCounter = state.cooldownCounter as number;
    this.lastEpoch = state.lastEpoch as number;
    this.lastLr = [...(state.lastLr as number[])];
  }
}
