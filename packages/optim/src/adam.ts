/** `Adam` and `AdamW`: PyTorch's rules, sharing one implementation. */
import {
  guardValue,
  hostEffect,
  isCapturing,
  noGrad,
  type PointwiseCall,
  pointwiseIntoEach,
  type ScalarArg,
  type Tensor,
} from '@nabla/core';
import { Optimizer, type ParamGroup, type ParamsInput } from './optimizer.js';
import { type AdamHyper, adamGroupRule, adamRow, adamScalars } from './rules/adam.js';
import type { StateSchema } from './validate.js';

/** Hyper-parameters of {@link Adam} and {@link AdamW}. */
export interface AdamOptions {
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay `p *= 1 - lr·wd`. */
  weightDecay: number;
  /** Use the running maximum of the second moment (default false). */
  amsgrad: boolean;
}

/** The Adam update shared by {@link Adam} and {@link AdamW}; they differ only in `decoupled`. */
abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;
  protected readonly stateSchema: StateSchema = {
    step: 'count',
    expAvg: 'tensor',
    expAvgSq: 'tensor',
    maxExpAvgSq: 'optional tensor',
  };

  protected validate(o: AdamOptions): void {
    if (!(o.lr >= 0)) throw new Error(`Invalid learning rate: ${o.lr}`);
    if (!(o.eps >= 0)) throw new Error(`Invalid epsilon value: ${o.eps}`);
    o.betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1)) throw new Error(`Invalid beta parameter at index ${i}: ${b}`);
    });
    if (!(o.weightDecay >= 0)) throw new Error(`Invalid weight_decay value: ${o.weightDecay}`);
  }

  /** Each group's live view as {@link AdamHyper} (made once per group object). */
  private readonly hypers = new WeakMap<ParamGroup<AdamOptions>, AdamHyper>();
  /** Each parameter state's scalars for a compiled step, with the view they read (made once per state object). */
  private readonly scalarRows = new WeakMap<object, { h: AdamHyper; scalars: ScalarArg[] }>();

  step(): void {
    noGrad(() => {
      const calls: PointwiseCall[] = [];
      // A compiled step needs scalars it can read again on every replay; an eager step passes
      // the numbers, computed once for the parameters of a group at the same step count.
      const capturing = isCapturing();
      for (let gi = 0; gi < this.paramGroups.length; gi++) {
        const g = this.paramGroups[gi];
        const h = this.hyperOf(g);
        const rule = adamGroupRule(h);
        const params = this.paramsWithGrads(g);
        let eagerRow: number[] = [];
        let eagerStep = -1;
        for (let i = 0; i < params.length; i++) {
          const p = params[i];
          const grad = p.grad as Tensor;
          // The first step creates zeroed moments: a compiled step captures that call and the
          // following ones separately (a replay must not zero them again).
          guardValue('Adam state exists', () => this.state.has(p));
          const s = this.stateFor(p, () => ({
            step: 0,
            expAvg: this.zerosLike(p),
            expAvgSq: this.zerosLike(p),
            ...(g.amsgrad ? { maxExpAvgSq: this.zerosLike(p) } : {}),
          }));
          if (g.amsgrad && !s.maxExpAvgSq) s.maxExpAvgSq = this.zerosLike(p);
          // The step count is host state: a compiled step counts again on every replay.
          hostEffect(() => {
            s.step = (s.step as number) + 1;
          });
          let scalars: readonly ScalarArg[];
          if (capturing) {
            let row = this.scalarRows.get(s);
            if (row?.h !== h) {
              row = { h, scalars: adamScalars(h, () => s.step as number) };
              this.scalarRows.set(s, row);
            }
            scalars = row.scalars;
          } else {
            if (s.step !== eagerStep) {
              eagerStep = s.step as number;
              eagerRow = adamRow(h, eagerStep);
            }
            scalars = eagerRow;
          }
          const vMax = g.amsgrad ? (s.maxExpAvgSq as Tensor) : null;
          calls.push(rule.call(p, grad, s.expAvg as Tensor, s.expAvgSq as Tensor, vMax, scalars));
        }
      }
      pointwiseIntoEach(calls, this.decoupled ? 'adamW' : 'adam');
    });
  }

  /** `g` as {@link AdamHyper}: getters, so a changed learning rate (a scheduler) is read live. */
  private hyperOf(g: ParamGroup<AdamOptions>): AdamHyper {
    let h = this.hypers.get(g);
    if (!h) {
      const decoupled = this.decoupled;
      h = {
        get lr() {
          return g.lr;
        },
        get beta1() {
          return g.betas[0];
        },
        get beta2() {
          return g.betas[1];
        },
        get eps() {
          return g.eps;
        },
        get weightDecay() {
          return g.weightDecay;
        },
        decoupled,
        get amsgrad() {
          return g.amsgrad;
        },
      };
      this.hypers.set(g, h);
    }
    return h;
  }
}

/**
 * PyTorch's Adam: `g = grad + wd·p`; `m = β1·m + (1-β1)·g`; `v = β2·v + (1-β2)·g²`
 * (amsgrad: `vMax = max(vMax, v)` used instead of v); `p -= lr/(1-β1ᵗ) · m / (sqrt(v/(1-β2ᵗ)) + eps)`.
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;

  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, ...options });
  }
}

/** AdamW: Adam with decoupled weight decay (`p *= 1 - lr·wd` first); default weightDecay 0.01. */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;

  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 1e-2,
      amsgrad: false,
      ...options,
    });
  }
}
