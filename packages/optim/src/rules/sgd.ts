/**
 * PyTorch's SGD update as one pointwise program per parameter, updating the parameter (and
 * its momentum buffer) in place (the optimizer runs the calls of all its parameters together:
 * one kernel per shape, see `pointwiseIntoEach`). Structure flags pick the program; every
 * number is a per-call scalar, so a program's key never changes from step to step.
 */
import { E, type Expr, guardValue, type PointwiseCall, pointwiseProgram, type Tensor } from '@nabla/core';
import { checkGradShape } from './grad-shape.js';
import { programsBy } from './programs-by.js';

/** The numbers of one SGD update. */
export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** What decides the program's shape (not its numbers). */
interface SgdStructure {
  /** Momentum is non-zero: a buffer is kept. */
  momentum: boolean;
  /** The buffer's first step: it becomes the gradient (no dampening, old buffer unread). */
  firstStep: boolean;
  nesterov: boolean;
  /** Weight decay is non-zero (PyTorch skips the term entirely when it is zero). */
  weightDecay: boolean;
}

// Scalars: 0 lr, 1 weightDecay, 2 momentum, 3 (1 - dampening).
const LR = E.scalar(0);
const WD = E.scalar(1);
const MOMENTUM = E.scalar(2);
const KEEP = E.scalar(3);

/**
 * `g = grad + wd·p`; with momentum, `buf = firstStep ? g : momentum·buf + (1 - dampening)·g`
 * and `g = nesterov ? g + momentum·buf : buf`; then `p = p - lr·g`. Inputs: param, grad (and
 * the buffer after the first step); outputs: param (and the buffer).
 */
const sgdProgram = programsBy(
  (s: SgdStructure) => `${+s.momentum}${+s.firstStep}${+s.nesterov}${+s.weightDecay}`,
  (s) => {
    const p = E.input(0);
    let g: Expr = E.input(1);
    if (s.weightDecay) g = E.add(g, E.mul(WD, p));
    const outputs: Expr[] = [];
    const inputs: ('float32' | 'int32')[] = ['float32', 'float32'];
    let buf: Expr | null = null;
    if (s.momentum) {
      if (s.firstStep) buf = g;
      else {
        inputs.push('float32');
        buf = E.add(E.mul(MOMENTUM, E.input(2)), E.mul(KEEP, g));
      }
      g = s.nesterov ? E.add(g, E.mul(MOMENTUM, buf)) : buf;
    }
    outputs.push(E.sub(p, E.mul(LR, g)));
    if (buf) outputs.push(buf);
    const name = `sgd${s.momentum ? (s.nesterov ? 'Nesterov' : 'Momentum') : ''}${s.firstStep ? 'First' : ''}`;
    return pointwiseProgram(name, { inputs, scalars: ['float32', 'float32', 'float32', 'float32'], outputs });
  },
);

/**
 * The in-place SGD update of `param` and `buffer` (null when momentum is 0), as a call to run.
 * `firstStep` says the buffer has not been written yet. Hyper-parameters are validated by the
 * optimizer.
 */
export function sgdCall(
  param: Tensor,
  grad: Tensor,
  buffer: Tensor | null,
  h: SgdHyper,
  firstStep: boolean,
): PointwiseCall {
  checkGradShape('sgd', param, grad);
  const momentum = h.momentum !== 0;
  if (momentum && !buffer) throw new Error(`sgd: momentum ${h.momentum} needs a momentum buffer`);
  const structure = {
    momentum,
    firstStep: momentum && firstStep,
    nesterov: momentum && h.nesterov,
    weightDecay: h.weightDecay !== 0,
  };
  // A compiled step replays this program: it must capture again if the structure changes.
  guardValue('SGD update structure', () => `${h.momentum !== 0}${h.nesterov}${h.weightDecay !== 0}`);
  const program = sgdProgram(structure);
  const inputs = momentum && !firstStep ? [param, grad, buffer!] : [param, grad];
  const outputs = momentum ? [param, buffer!] : [param];
  return { program, inputs, scalars: scalarsOf(h), outputs };
}

/** Each hyper-parameter object's scalar readers, made once (the optimizer passes its live groups). */
const scalarRows = new WeakMap<SgdHyper, PointwiseCall['scalars']>();

/** The numbers, read from the live hyper-parameters on every call (and every replay). */
function scalarsOf(h: SgdHyper): PointwiseCall['scalars'] {
  let row = scalarRows.get(h);
  if (!row) {
    row = [() => h.lr, () => h.weightDecay, () => h.momentum, () => 1 - h.dampening];
    scalarRows.set(h, row);
  }
  return row;
}
