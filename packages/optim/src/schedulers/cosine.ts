/** `CosineAnnealingLR`: cosine decay from the base rate to `etaMin` over `tMax` steps (SGDR without restarts). */
import type { BaseOptions, Optimizer } from '../optimizer.js';
import { LRScheduler } from './lr-scheduler.js';

/**
 * `lr_t = etaMin + (base - etaMin)·(1 + cos(π·t/tMax))/2`, computed in PyTorch's recursive
 * (chainable) form so the values match it step for step; past `tMax` it rises again (a cosine
 * period of `2·tMax`), as PyTorch's does.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer<BaseOptions>, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    if (!(options.tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be positive, got ${options.tMax}`);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }

  protected getLr(): number[] {
    const t = this.lastEpoch;
    const { tMax, etaMin } = this;
    if (t === 0) return this.groups.map((g) => g.lr);
    if ((t - 1 - tMax) % (2 * tMax) === 0) {
      return this.groups.map(
        (g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2,
      );
    }
    return this.groups.map(
      (g) =>
        ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) *
          (g.lr - etaMin) +
        etaMin,
    );
  }
}
