/**
 * `LRScheduler`: the base of the epoch/step learning-rate schedules (PyTorch's
 * `torch.optim.lr_scheduler._LRScheduler`). A schedule writes `optimizer.paramGroups[i].lr`;
 * each optimizer step then reads the group's value as a per-call scalar, so changing the rate
 * never changes a kernel.
 */
import type { BaseOptions, Optimizer } from '../optimizer.js';

/** The parameter-group fields a schedule reads and writes (momentum and betas when it cycles them). */
export interface SchedulableGroup {
  lr: number;
  momentum?: number;
  betas?: [number, number];
  [key: string]: unknown;
}

/** What {@link LRScheduler.stateDict} returns: plain numbers and arrays, JSON-safe. */
export type SchedulerStateDict = Record<string, unknown>;

/**
 * Base class: `step()` advances `lastEpoch` and sets every group's `lr` to {@link getLr}'s
 * value; the constructor takes the first step (epoch 0), as PyTorch does. Call `step()`
 * after `optimizer.step()`.
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer<BaseOptions>;
  /** The learning rate each group had when the schedule started. */
  baseLrs: number[];
  /** Steps taken so far (0 after construction). */
  lastEpoch = -1;
  private lastLr: number[] = [];

  constructor(optimizer: Optimizer<BaseOptions>) {
    this.optimizer = optimizer;
    for (const g of this.groups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = this.groups.map((g) => g.initialLr as number);
  }

  /** The optimizer's parameter groups, as the schedule sees them. */
  protected get groups(): SchedulableGroup[] {
    return this.optimizer.paramGroups as unknown as SchedulableGroup[];
  }

  /** Takes the first step; subclasses call it at the end of their constructor. */
  protected initialStep(): void {
    this.step();
  }

  /** The learning rates for `lastEpoch`, per group (may read the groups' current `lr`: chainable form). */
  protected abstract getLr(): number[];

  /** Advances one step and writes the new learning rates into the optimizer's groups. */
  step(): void {
    this.lastEpoch += 1;
    const lrs = this.getLr();
    this.groups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The learning rate of each group after the last {@link step}. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The schedule's own state (not the optimizer's): restore it with {@link loadStateDict}. */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === 'optimizer') continue;
      out[k] = Array.isArray(v) ? [...v] : v;
    }
    return out;
  }

  /** Restores state saved by {@link stateDict} (from a schedule of the same kind). */
  loadStateDict(state: SchedulerStateDict): void {
    for (const [k, v] of Object.entries(state)) {
      if (k === 'optimizer') continue;
      (this as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
    }
  }
}
