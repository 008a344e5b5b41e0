/**
 * PyTorch's Adam and AdamW updates as one pointwise program per parameter, updating the
 * parameter and its moments in place (the optimizer runs the calls of all its parameters
 * together: one kernel per shape, see `pointwiseIntoEach`). Structure flags pick the program
 * (decoupled decay, L2 decay, AMSGrad); every number, the step-dependent bias corrections
 * included, is a per-call scalar, so a program's key never changes from step to step.
 */
import {
  E,
  type Expr,
  guardValue,
  type PointwiseCall,
  pointwiseProgram,
  type ScalarArg,
  type Tensor,
} from '@nabla/core';
import { checkGradShape } from './grad-shape.js';
import { programsBy } from './programs-by.js';

/** The numbers of one Adam update. */
export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: `p *= 1 - lr·wd` first, instead of adding `wd·p` to the gradient. */
  decoupled: boolean;
  amsgrad: boolean;
}

// Scalars: 0 beta1, 1 (1 - beta1), 2 beta2, 3 (1 - beta2), 4 weightDecay,
// 5 decoupled decay factor (1 - lr·wd), 6 sqrt(1 - beta2^t), 7 -lr / (1 - beta1^t), 8 eps.
const S = Array.from({ length: 9 }, (_, i) => E.scalar(i));
const [BETA1, ONE_MINUS_BETA1, BETA2, ONE_MINUS_BETA2, WD, DECAY, BC2_SQRT, NEG_STEP_SIZE, EPS] = S;

/**
 * `p' = decoupled ? p·(1 - lr·wd) : p`; `g = grad (+ wd·p with L2)`; `m = β1·m + (1-β1)·g`;
 * `v = β2·v + (1-β2)·g·g`; `v̂ = amsgrad ? max(vMax, v) : v`;
 * `p = p' + (-lr/(1-β1ᵗ)) · m / (sqrt(v̂)/sqrt(1-β2ᵗ) + eps)`.
 * Inputs: param, grad, m, v (and vMax); outputs: param, m, v (and vMax).
 */
const adamProgram = programsBy(
  (decoupled: boolean, l2: boolean, amsgrad: boolean) => `${+decoupled}${+l2}${+amsgrad}`,
  (decoupled, l2, amsgrad) => {
    let p: Expr = E.input(0);
    let g: Expr = E.input(1);
    if (decoupled) p = E.mul(p, DECAY);
    else if (l2) g = E.add(g, E.mul(WD, p));
    const m = E.add(E.mul(E.input(2), BETA1), E.mul(ONE_MINUS_BETA1, g));
    const v = E.add(E.mul(E.input(3), BETA2), E.mul(E.mul(ONE_MINUS_BETA2, g), g));
    const second = amsgrad ? E.max(E.input(4), v) : v;
    const denom = E.add(E.div(E.sqrt(second), BC2_SQRT), EPS);
    const outputs = [E.add(p, E.mul(NEG_STEP_SIZE, E.div(m, denom))), m, v];
    if (amsgrad) outputs.push(second);
    return pointwiseProgram(`${decoupled ? 'adamW' : 'adam'}${amsgrad ? 'Amsgrad' : ''}`, {
      inputs: Array(amsgrad ? 5 : 4).fill('float32'),
      scalars: Array(9).fill('float32'),
      outputs,
    });
  },
);

/**
 * The scalars of an update at step `t`, from the live hyper-parameters (getters over the group,
 * each read once).
 */
export function adamRow(h: AdamHyper, t: number): number[] {
  const { beta1, beta2, lr, weightDecay } = h;
  return [
    beta1,
    1 - beta1,
    beta2,
    1 - beta2,
    weightDecay,
    1 - lr * weightDecay,
    Math.sqrt(1 - beta2 ** t),
    -lr / (1 - beta1 ** t),
    h.eps,
  ];
}

/**
 * The per-call scalars of one parameter's update for a compiled step: read from the live
 * hyper-parameters and step count on every replay. The first scalar computes the whole row;
 * the others read it (scalars are always evaluated in order). Made once per parameter and
 * reused: they hold no tensors.
 */
export function adamScalars(h: AdamHyper, step: () => number): ScalarArg[] {
  let row: number[] = [];
  const compute = (): number => {
    row = adamRow(h, step());
    return row[0];
  };
  return [compute, ...Array.from({ length: 8 }, (_, i) => () => row[i + 1])];
}

/**
 * The Adam/AdamW update of one parameter group: picks the program from `h`'s structure (a
 * compiled step captures again if it changes) and makes each parameter's in-place call of
 * `param`, `m`, `v` (and `vMax` with amsgrad). Hyper-parameters are validated by the optimizer.
 */
export function adamGroupRule(h: AdamHyper): {
  call(
    param: Tensor,
    grad: Tensor,
    m: Tensor,
    v: Tensor,
    vMax: Tensor | null,
    scalars: readonly ScalarArg[],
  ): PointwiseCall;
} {
  const name = h.decoupled ? 'adamW' : 'adam';
  const amsgrad = h.amsgrad;
  const l2 = !h.decoupled && h.weightDecay !== 0;
  // A compiled step replays this program: it must capture again if the structure changes.
  guardValue(
    'Adam update structure',
    () => `${h.decoupled}${!h.decoupled && h.weightDecay !== 0}${h.amsgrad}`,
  );
  const program = adamProgram(h.decoupled, l2, amsgrad);
  return {
    call(param, grad, m, v, vMax, scalars) {
      checkGradShape(name, param, grad);
      if (amsgrad && !vMax) throw new Error('adam: amsgrad needs a vMax buffer');
      return amsgrad
        ? { program, inputs: [param, grad, m, v, vMax!], scalars, outputs: [param, m, v, vMax!] }
        : { program, inputs: [param, grad, m, v], scalars, outputs: [param, m, v] };
    },
  };
}
