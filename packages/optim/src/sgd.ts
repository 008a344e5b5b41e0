/** `SGD`: stochastic gradient descent with momentum, PyTorch's rule. */
import { guardValue, noGrad, type PointwiseCall, pointwiseIntoEach, type Tensor } from '@nabla/core';
import { Optimizer, type ParamsInput } from './optimizer.js';
import { sgdCall } from './rules/sgd.js';
import type { StateSchema } from './validate.js';

/** Hyper-parameters of {@link SGD}. */
export interface SGDOptions {
  lr: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum: number;
  /** Dampening of the gradient added to the momentum buffer (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient: `g + weightDecay · p` (default 0). */
  weightDecay: number;
  /** Nesterov momentum: step along `g + momentum · buf` (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
}

/**
 * PyTorch's SGD: `g = grad + wd·p`; with momentum, `buf = g` on the first step and
 * `buf = momentum·buf + (1 - dampening)·g` after, then `g = nesterov ? g + momentum·buf : buf`;
 * finally `p -= lr·g`, in place: one kernel per parameter shape (see `rules/sgd.ts`).
 */
export class SGD extends Optimizer<SGDOptions> {
  protected readonly stateSchema: StateSchema = { momentumBuffer: 'tensor' };

  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
  }

  protected validate(o: SGDOptions): void {
    if (!(o.lr >= 0)) throw new Error(`Invalid learning rate: ${o.lr}`);
    if (!(o.momentum >= 0)) throw new Error(`Invalid momentum value: ${o.momentum}`);
    if (!(o.weightDecay >= 0)) throw new Error(`Invalid weight_decay value: ${o.weightDecay}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new Error('Nesterov momentum requires a momentum and zero dampening');
    }
  }

  step(): void {
    noGrad(() => {
      const calls: PointwiseCall[] = [];
      for (let gi = 0; gi < this.paramGroups.length; gi++) {
        const g = this.paramGroups[gi];
        const params = this.paramsWithGrads(g);
        for (let i = 0; i < params.length; i++) {
          const p = params[i];
          const grad = p.grad as Tensor;
          let firstStep = false;
          let buf: Tensor | null = null;
          if (g.momentum !== 0) {
            // The first step copies the gradient into a new buffer: a compiled step captures
            // that call and the following ones separately.
            guardValue('SGD momentum buffer exists', () => this.state.has(p));
            const s = this.stateFor(p, () => {
              firstStep = true;
              return { momentumBuffer: this.zerosLike(p) };
            });
            buf = s.momentumBuffer as Tensor;
          }
          calls.push(sgdCall(p, grad, buf, g, firstStep));
        }
      }
      pointwiseIntoEach(calls, 'sgd');
    });
  }
}
