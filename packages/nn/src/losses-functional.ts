/**
 * Binary, robust-regression and negative-log-likelihood losses, PyTorch's definitions.
 * Each per-element loss and its gradient is a pointwise program (kernels as data) owned
 * here, with the loss's parameters (`beta`, `delta`) as per-call scalars; the reductions are
 * ordinary core ops.
 *
 * Targets of the binary losses are treated as constants (no gradient reaches them).
 *
 * @module
 */
import {
  E,
  type Expr,
  GradNode,
  isGradEnabled,
  type PointwiseProgram,
  pointwise,
  pointwiseProgram,
  type Tensor,
  tidy,
} from '@nabla/core';
import type { Reduction } from './functional.js';

type Shape = readonly number[];

const F32 = 'float32' as const;
const fmt = (shape: Shape): string => `[${shape.join(', ')}]`;
const torchSize = (shape: Shape): string => `torch.Size([${shape.join(', ')}])`;

function checkReduction(op: string, reduction: unknown): asserts reduction is Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none')
    throw new Error(
      `${op}: ${String(reduction)} is not a valid value for reduction (use 'mean', 'sum' or 'none')`,
    );
}

function reduce(perElement: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return perElement;
  return reduction === 'sum' ? perElement.sum() : perElement.mean();
}

function checkFloat(op: string, name: string, t: Tensor): void {
  if (t.dtype !== 'float32') throw new Error(`${op}: expected a float32 ${name}, got ${t.dtype}`);
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The error for a target shape that is not the input's: PyTorch's words for the BCE losses. */
const SHAPE_MISMATCH = {
  bceWithLogits: (input: Shape, target: Shape) =>
    `Target size (${torchSize(target)}) must be the same as input size (${torchSize(input)})`,
  bce: (input: Shape, target: Shape) =>
    `Using a target size (${torchSize(target)}) that is different to the input size (${torchSize(input)}) is deprecated. Please ensure they have the same size.`,
  // PyTorch only warns and broadcasts here; we refuse, since that is almost always a bug.
  regression: (input: Shape, target: Shape, op: string) =>
    `${op}: input shape ${fmt(input)} and target shape ${fmt(target)} differ; ` +
    'broadcasting them is almost always a bug (reshape the target to the input shape)',
};

/** Checks a loss of `(input, target)`: the reduction, float32 operands, and equal shapes. */
function checkInputTarget(
  op: string,
  input: Tensor,
  target: Tensor,
  reduction: unknown,
  mismatch: (input: Shape, target: Shape, op: string) => string,
): asserts reduction is Reduction {
  checkReduction(op, reduction);
  checkFloat(op, 'input', input);
  checkFloat(op, 'target', target);
  if (!sameShape(input.shape, target.shape)) throw new Error(mismatch(input.shape, target.shape, op));
}

/**
 * A per-element loss `f(input, target, ...extra)` with its gradient programs: `dInput` (and
 * `dTarget` when the loss is differentiable in the target) take `(grad, input, target, ...extra)`.
 */
interface ElementLoss {
  forward: PointwiseProgram;
  dInput: PointwiseProgram;
  dTarget: PointwiseProgram | null;
}

function defineLoss(
  name: string,
  inputs: number,
  scalars: number,
  forward: (v: Expr[]) => Expr,
  dInput: (g: Expr, v: Expr[]) => Expr,
  dTarget: ((g: Expr, v: Expr[]) => Expr) | null,
): ElementLoss {
  const types = Array<typeof F32>(inputs).fill(F32);
  const scalarTypes = Array<typeof F32>(scalars).fill(F32);
  const vars = types.map((_, i) => E.input(i));
  const shifted = types.map((_, i) => E.input(i + 1));
  const gradSpec = (fn: (g: Expr, v: Expr[]) => Expr) => ({
    inputs: [F32, ...types],
    scalars: scalarTypes,
    outputs: [fn(E.input(0), shifted)],
  });
  return {
    forward: pointwiseProgram(name, { inputs: types, scalars: scalarTypes, outputs: [forward(vars)] }),
    dInput: pointwiseProgram(`${name}GradInput`, gradSpec(dInput)),
    dTarget: dTarget ? pointwiseProgram(`${name}GradTarget`, gradSpec(dTarget)) : null,
  };
}

/** Runs an element loss and records its backward rule (gradients to input and, if defined, target). */
function elementLoss(op: string, loss: ElementLoss, operands: Tensor[], scalars: number[]): Tensor {
  const [out] = pointwise(loss.forward, operands, scalars, op);
  const [input, target] = operands;
  const wants = [input.requiresGrad, loss.dTarget !== null && target.requiresGrad];
  if (!isGradEnabled() || !wants.some(Boolean)) return out;
  const saved = operands.map((t) => t.alias());
  const edges = [input, target].map((t, i) => {
    if (!wants[i]) return null;
    return t.gradFn ? { node: t.gradFn } : { leaf: t };
  });
  out.setGradFn(
    new GradNode(op, edges, saved, (g, kept) => [
      wants[0] ? pointwise(loss.dInput, [g, ...kept], scalars, `${op} backward`)[0] : null,
      wants[1] ? pointwise(loss.dTarget!, [g, ...kept], scalars, `${op} backward`)[0] : null,
    ]),
  );
  return out;
}

const sigmoidOf = (v: Expr): Expr => E.recip(E.add(1, E.exp(E.neg(v))));
/** `log(1 + e^-x)` written so it never overflows: `log1p(e^-|x|) + max(-x, 0)`. */
const softplusNeg = (v: Expr): Expr => E.add(E.log1p(E.exp(E.neg(E.abs(v)))), E.max(E.neg(v), 0));

/** `(1 - y)·x + log(1 + e^-x)`: BCE of logits, finite for any logit. */
const BCE_LOGITS = defineLoss(
  'bceWithLogits',
  2,
  0,
  ([x, y]) => E.add(E.mul(E.sub(1, y), x), softplusNeg(x)),
  (g, [x, y]) => E.mul(g, E.sub(sigmoidOf(x), y)),
  null,
);

/** With `posWeight` p: `(1 - y)·x + (1 + (p - 1)·y)·log(1 + e^-x)`. */
const BCE_LOGITS_POS_WEIGHT = defineLoss(
  'bceWithLogitsPosWeight',
  3,
  0,
  ([x, y, p]) => E.add(E.mul(E.sub(1, y), x), E.mul(E.add(1, E.mul(E.sub(p, 1), y)), softplusNeg(x))),
  (g, [x, y, p]) => {
    const t = E.mul(p, y);
    return E.mul(g, E.sub(E.mul(E.sub(E.add(t, 1), y), sigmoidOf(x)), t));
  },
  null,
);

/** `-(y·log(x) + (1 - y)·log(1 - x))` with each log clamped at -100, as PyTorch does. */
const BCE = defineLoss(
  'bce',
  2,
  0,
  ([x, y]) => E.sub(E.mul(E.sub(y, 1), E.max(E.log1p(E.neg(x)), -100)), E.mul(y, E.max(E.log(x), -100))),
  (g, [x, y]) => E.div(E.mul(g, E.sub(x, y)), E.max(E.mul(E.sub(1, x), x), 1e-12)),
  null,
);

const L1 = defineLoss(
  'l1',
  2,
  0,
  ([x, y]) => E.abs(E.sub(x, y)),
  (g, [x, y]) => E.mul(g, E.sign(E.sub(x, y))),
  (g, [x, y]) => E.neg(E.mul(g, E.sign(E.sub(x, y)))),
);

/** `|d| < β ? 0.5·d²/β : |d| - 0.5·β` (scalar 0 is β; β = 0 is the L1 loss). */
const smoothL1Value = (d: Expr, beta: Expr): Expr =>
  E.select(E.lt(E.abs(d), beta), E.div(E.mul(E.mul(0.5, d), d), beta), E.sub(E.abs(d), E.mul(0.5, beta)));
/** PyTorch's backward order: `d <= -β → -1`, `d >= β → 1`, else `d/β` (so d = 0 with β = 0 gives -1). */
const smoothL1Slope = (d: Expr, beta: Expr): Expr =>
  E.select(E.le(d, E.neg(beta)), -1, E.select(E.ge(d, beta), 1, E.div(d, beta)));
const SMOOTH_L1 = defineLoss(
  'smoothL1',
  2,
  1,
  ([x, y]) => smoothL1Value(E.sub(x, y), E.scalar(0)),
  (g, [x, y]) => E.mul(g, smoothL1Slope(E.sub(x, y), E.scalar(0))),
  (g, [x, y]) => E.neg(E.mul(g, smoothL1Slope(E.sub(x, y), E.scalar(0)))),
);

/** `|d| < δ ? 0.5·d² : δ·(|d| - 0.5·δ)` (scalar 0 is δ). */
const huberValue = (d: Expr, delta: Expr): Expr =>
  E.select(E.lt(E.abs(d), delta), E.mul(E.mul(0.5, d), d), E.mul(delta, E.sub(E.abs(d), E.mul(0.5, delta))));
const huberSlope = (d: Expr, delta: Expr): Expr =>
  E.select(E.le(d, E.neg(delta)), E.neg(delta), E.select(E.ge(d, delta), delta, d));
const HUBER = defineLoss(
  'huber',
  2,
  1,
  ([x, y]) => huberValue(E.sub(x, y), E.scalar(0)),
  (g, [x, y]) => E.mul(g, huberSlope(E.sub(x, y), E.scalar(0))),
  (g, [x, y]) => E.neg(E.mul(g, huberSlope(E.sub(x, y), E.scalar(0)))),
);

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BCEWithLogitsOptions {
  reduction?: Reduction;
  /** Rescales each element's loss (broadcast to the input). */
  weight?: Tensor | null;
  /** Weight of the positive term per class (broadcast along the last dim): > 1 raises recall. */
  posWeight?: Tensor | null;
}

/**
 * Binary cross-entropy of logits, PyTorch's `F.binary_cross_entropy_with_logits`:
 * `-w·(p·y·log σ(x) + (1 - y)·log(1 - σ(x)))`, computed in the log-sum-exp form so logits of
 * ±100 (or ±1e4) give finite, exact values. Input and target shapes must match.
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  options: BCEWithLogitsOptions = {},
): Tensor {
  const op = 'binary_cross_entropy_with_logits';
  const reduction = options.reduction ?? 'mean';
  checkInputTarget(op, input, target, reduction, SHAPE_MISMATCH.bceWithLogits);
  const posWeight = options.posWeight ?? null;
  const weight = options.weight ?? null;
  if (posWeight) checkFloat(op, 'posWeight', posWeight);
  if (weight) checkFloat(op, 'weight', weight);
  return tidy(() => {
    let perElement = posWeight
      ? elementLoss(op, BCE_LOGITS_POS_WEIGHT, [input, target, posWeight], [])
      : elementLoss(op, BCE_LOGITS, [input, target], []);
    if (weight) perElement = perElement.mul(weight);
    return reduce(perElement, reduction);
  });
}

/** Options of {@link binaryCrossEntropy}. */
export interface BCEOptions {
  reduction?: Reduction;
  /** Rescales each element's loss (broadcast to the input). */
  weight?: Tensor | null;
}

/**
 * Binary cross-entropy of probabilities, PyTorch's `F.binary_cross_entropy`:
 * `-w·(y·log x + (1 - y)·log(1 - x))` with each log clamped at -100 (so x = 0 or 1 gives 100,
 * not inf). Inputs must lie in [0, 1] (not checked: that needs a read-back); shapes must match.
 * Prefer {@link binaryCrossEntropyWithLogits} on logits: it is exact where sigmoid saturates.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BCEOptions = {}): Tensor {
  const op = 'binary_cross_entropy';
  const reduction = options.reduction ?? 'mean';
  checkInputTarget(op, input, target, reduction, SHAPE_MISMATCH.bce);
  const weight = options.weight ?? null;
  return tidy(() => {
    let perElement = elementLoss(op, BCE, [input, target], []);
    if (weight) perElement = perElement.mul(weight);
    return reduce(perElement, reduction);
  });
}

/**
 * The regression losses: checks the reduction, dtypes and shapes, then `scalarError` (a loss
 * parameter PyTorch rejects, checked after the inputs as PyTorch does), then reduces the
 * element loss of `(input, target)` with `scalars` as its parameters.
 */
function regressionLoss(
  op: string,
  loss: ElementLoss,
  input: Tensor,
  target: Tensor,
  reduction: Reduction,
  scalars: number[] = [],
  scalarError: string | null = null,
): Tensor {
  checkInputTarget(op, input, target, reduction, SHAPE_MISMATCH.regression);
  if (scalarError) throw new Error(scalarError);
  return tidy(() => reduce(elementLoss(op, loss, [input, target], scalars), reduction));
}

/** Mean absolute error `|input - target|`, reduced; gradient `sign(d)` (0 at 0). */
export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return regressionLoss('l1_loss', L1, input, target, reduction);
}

/** Options of {@link smoothL1Loss}. */
export interface SmoothL1Options {
  reduction?: Reduction;
  /** Where the loss turns from quadratic to linear (default 1; 0 gives the L1 loss). */
  beta?: number;
}

/** PyTorch's `F.smooth_l1_loss`: `0.5·d²/β` for `|d| < β`, else `|d| - 0.5·β`. */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  const beta = options.beta ?? 1;
  const err = beta >= 0 ? null : 'smooth_l1_loss does not support negative values for beta.';
  return regressionLoss('smooth_l1_loss', SMOOTH_L1, input, target, options.reduction ?? 'mean', [beta], err);
}

/** Options of {@link huberLoss}. */
export interface HuberOptions {
  reduction?: Reduction;
  /** Where the loss turns from quadratic to linear (default 1; must be positive). */
  delta?: number;
}

/** PyTorch's `F.huber_loss`: `0.5·d²` for `|d| < δ`, else `δ·(|d| - 0.5·δ)` (= δ · smoothL1 with β = δ). */
export function huberLoss(input: Tensor, target: Tensor, options: HuberOptions = {}): Tensor {
  const delta = options.delta ?? 1;
  const err = delta > 0 ? null : 'huber_loss does not support non-positive values for delta.';
  return regressionLoss('huber_loss', HUBER, input, target, options.reduction ?? 'mean', [delta], err);
}

/**
 * Flattens class-last inputs for the class-index losses: `(N, C, d1, ...)` with targets
 * `(N, d1, ...)` becomes `(N·d1·..., C)` with targets `(N·d1·...)`. Checks the target shape
 * with PyTorch's words. Returns null for 2-D input (nothing to do).
 */
export function flattenSpatial(input: Tensor, target: Tensor): { input: Tensor; target: Tensor } | null {
  if (input.rank <= 2) return null;
  const [n, c, ...spatial] = input.shape;
  const expected = [n, ...spatial];
  if (!sameShape(target.shape, expected))
    throw new Error(`Expected target size ${fmt(expected)}, got ${fmt(target.shape)}`);
  const order = [0, ...spatial.map((_, i) => i + 2), 1];
  return { input: input.permute(order).reshape([-1, c]), target: target.reshape([-1]) };
}

/** Options of {@link nllLoss}. */
export interface NLLOptions {
  reduction?: Reduction;
  /** Per-class weight `[C]`: each target's loss is scaled by its class's weight, and 'mean' divides by the weights' sum. */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing and are not counted by 'mean' (default -100). */
  ignoreIndex?: number;
}

/**
 * Negative log-likelihood of log-probabilities `input: (N, C)` or `(N, C, d1, ...)` against
 * int32 class indices `target: (N)` or `(N, d1, ...)`, PyTorch's `F.nll_loss`: `-w[t_n]·input[n, t_n]`
 * (`w` = 1 without `weight`); 'mean' divides by the sum of `w[t_n]` over targets not ignored
 * (NaN when all are).
 */
export function nllLoss(input: Tensor, target: Tensor, options: NLLOptions = {}): Tensor {
  const op = 'nll_loss';
  const reduction = options.reduction ?? 'mean';
  const ignoreIndex = options.ignoreIndex ?? -100;
  checkReduction(op, reduction);
  checkFloat(op, 'input', input);
  if (target.dtype !== 'int32')
    throw new Error(`${op}: expected int32 class-index targets, got ${target.dtype}`);
  if (input.rank < 2)
    throw new Error(`${op}: expected input of shape (N, C) or (N, C, d1, ...), got ${fmt(input.shape)}`);
  if (input.rank === 2 && (target.rank !== 1 || target.shape[0] !== input.shape[0]))
    throw new Error(
      `Expected input batch_size (${input.shape[0]}) to match target batch_size (${target.rank === 0 ? 1 : target.shape[0]}).`,
    );
  const classes = input.shape[1];
  const weight = options.weight ?? null;
  if (weight) {
    checkFloat(op, 'weight', weight);
    if (weight.rank !== 1 || weight.shape[0] !== classes)
      throw new Error(
        `weight tensor should be defined either for all ${classes} classes or no classes but got weight tensor of shape: ${fmt(weight.shape)}`,
      );
  }
  const backend = target.backendFor(op);
  if (backend.readSync) {
    for (const t of target.dataSync())
      if (t !== ignoreIndex && (t < 0 || t >= classes)) throw new Error(`Target ${t} is out of bounds.`);
  }
  return tidy(() => {
    const flat = flattenSpatial(input, target) ?? { input, target };
    const valid = flat.target.ne(ignoreIndex);
    const safe = valid.mul(flat.target);
    // Each row's weight: its class's weight (1 without `weight`), 0 when ignored.
    const rowWeight = weight ? weight.gather(0, safe).mul(valid.float()) : valid.float();
    const perRow = flat.input
      .gather(1, safe.reshape([-1, 1]))
      .reshape([-1])
      .neg()
      .mul(rowWeight);
    if (reduction === 'none') return input.rank > 2 ? perRow.reshape(target.shape) : perRow;
    if (reduction === 'sum') return perRow.sum();
    return perRow.sum().div(rowWeight.sum());
  });
}
