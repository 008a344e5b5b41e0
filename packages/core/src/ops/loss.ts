/**
 * `softmaxCrossEntropy`: the per-row loss `logSumExp(logits[r]) - logits[r, t_r]` as one op.
 * The forward is a row reduction (the backend's fused kernel where it has one, else composed
 * from `logSumExp` and `gather`); the backward is one pointwise program, the same on every
 * backend. Its 'mean' (over the rows not ignored) is one node whose gradient is the same one
 * program. PyTorch's conventions (the default `ignoreIndex` of -100, which reduction, label
 * smoothing) belong to `@nabla/nn`; this op only knows which class, if any, to ignore.
 */
import { noGrad } from '../autograd.js';
import { isCapturing } from '../compile/hooks.js';
import { E } from '../expr/expr.js';
import { pointwiseProgram } from '../expr/program.js';
import { tidy } from '../scope.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { full } from './creation.js';
import { where } from './elementwise.js';
import { hasFused, withDenseBuffers } from './fused-kernels.js';
import { record, requireFloat, sameBackend } from './graph.js';
import { checkIndexRange, gather } from './indexing.js';
import { pointwise } from './pointwise.js';
import { max } from './reduce.js';
import { reduceProgram } from './reduce-program.js';
import { reshape } from './views.js';

/** The ignoreIndex passed to kernels when no class is ignored: no valid target equals it. */
const NO_IGNORED_CLASS = -2147483648;

/**
 * `dlogits = [t != ignore] ? (exp((logit - shift) - logSum) - [class == t]) · scale : 0` over
 * logits `[N, C]`, with shift, logSum, t and the upstream gradient g as `[N, 1]` columns and
 * the class the element's column (`E.index(1)`: no class-index tensor to allocate and write
 * every step). `scale` is g, or for the 'mean' `g / count` (both `[1, 1]`), rounded as the
 * separate division would be. Subtracting the row's shift first keeps full precision for
 * large logits, where a float32 log-sum-exp would be rounded by up to half an ulp of its size.
 */
function crossEntropyBackward(mean: boolean) {
  const [logit, shift, logSum, g] = [E.input(0), E.input(1), E.input(2), E.input(4)];
  const [target, cls] = [E.input(3, 'int32'), E.index(1)];
  const prob = E.exp(E.sub(E.sub(logit, shift), logSum));
  const scale = mean ? E.div(g, E.input(5)) : g;
  const d = E.mul(E.sub(prob, E.select(E.eq(cls, target), 1, 0)), scale);
  return pointwiseProgram(mean ? 'softmaxCrossEntropyMeanBackward' : 'softmaxCrossEntropyBackward', {
    inputs: ['float32', 'float32', 'float32', 'int32', 'float32', ...(mean ? (['float32'] as const) : [])],
    scalars: ['int32'],
    outputs: [E.select(E.ne(target, E.scalar(0, 'int32')), d, 0)],
  });
}

const ROW_BACKWARD = crossEntropyBackward(false);
const MEAN_BACKWARD = crossEntropyBackward(true);

/** `1` where a target is not the ignored class (scalar 0), else `0`: the rows a 'mean' counts. */
const KEPT_ROWS = pointwiseProgram('keptRows', {
  inputs: ['int32'],
  scalars: ['int32'],
  outputs: [E.select(E.ne(E.input(0, 'int32'), E.scalar(0, 'int32')), 1, 0)],
});

/** The rows' losses as they are, summed by the mean's reduction. */
const ROW = pointwiseProgram('row', { inputs: ['float32'], outputs: [E.input(0)] });

/** The mean's epilogue: the sum (input 0) over the count (input 1). */
const OVER_COUNT = pointwiseProgram('overCount', {
  inputs: ['float32', 'float32'],
  outputs: [E.div(E.input(0), E.input(1))],
});

/**
 * The number of `targets` that are not `ignoreIndex`, as a float32 scalar (one kernel). When
 * every target came from the host and `ignoreIndex` lies outside their known range, no row is
 * ignored and the count is the row count: a fill, not a reduction. A capture keeps the
 * reduction, since a replay may be handed targets that do hold `ignoreIndex`.
 */
function countKeptRows(targets: Tensor, ignoreIndex: number, op: string): Tensor {
  const known = targets.storageFor(op).knownRange;
  if (known !== null && (ignoreIndex < known.min || ignoreIndex > known.max) && !isCapturing())
    return full([], targets.size, { backend: targets.backend });
  return reduceProgram('sum', KEPT_ROWS, [targets], [ignoreIndex], { name: op });
}

/** `Σ values / count` as one reduction whose epilogue divides (no gradient). */
function sumOverCount(values: Tensor, count: Tensor, op: string): Tensor {
  return reduceProgram('sum', ROW, [values], [], {
    epilogue: { program: OVER_COUNT, inputs: [count] },
    name: op,
  });
}

/**
 * `1` (float32) where a class target is not `ignoreIndex`, else `0`: the rows a 'mean' over
 * kept rows counts, for losses built from per-row terms (label smoothing). No gradient.
 */
export function keptRows(targets: Tensor, ignoreIndex: number): Tensor {
  return pointwise(KEPT_ROWS, [targets], [ignoreIndex], 'keptRows')[0];
}

/**
 * The mean of per-row losses over the rows whose target is not `ignoreIndex` (NaN when none
 * is): `Σ perRow / count` in two kernels; every row's gradient is `g / count`.
 */
export function meanOverKeptRows(perRow: Tensor, targets: Tensor, ignoreIndex: number): Tensor {
  const op = 'meanOverKeptRows';
  const count = countKeptRows(targets, ignoreIndex, op);
  const total = sumOverCount(perRow, count, op);
  const shape = perRow.shape;
  record(total, op, [perRow], [count], (g, [c]) => [g.div(c).expand(shape)]);
  count.dispose();
  return total;
}

/**
 * The shape and dtype checks of a class-index loss, with PyTorch's words: float32 logits
 * `[N, C]` and int32 targets `[N]`.
 */
export function checkClassTargets(logits: Tensor, targets: Tensor, op = 'cross_entropy'): void {
  requireFloat(op, logits);
  if (logits.rank !== 2)
    throw new Error(`${op}: expected logits of shape [N, C], got ${formatShape(logits.shape)}`);
  if (targets.rank > 1) throw new Error('0D or 1D target tensor expected, multi-target not supported');
  if (targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new Error(
      `Expected input batch_size (${logits.shape[0]}) to match target batch_size (${targets.rank === 0 ? 1 : targets.shape[0]}).`,
    );
  }
  if (targets.dtype !== 'int32')
    throw new Error(`${op}: expected int32 class-index targets, got ${targets.dtype}`);
}

/** Options of {@link softmaxCrossEntropy}. */
export interface SoftmaxCrossEntropyOptions {
  /** Rows whose target is this class give 0 and no gradient (default: no class is ignored). */
  ignoreIndex?: number;
  /**
   * `'none'` (default): the `[N]` per-row losses. `'mean'`: their sum over the number of rows
   * not ignored (NaN when every row is, or N = 0), as PyTorch's 'mean' without class weights;
   * its gradient is one kernel, `g / count` folded into the per-row formula.
   */
  reduction?: 'none' | 'mean';
}

/**
 * Softmax cross-entropy of `logits [N, C]` against int32 class `targets [N]`, per row
 * `logSumExp(logits[r]) - logits[r, t_r]`, or their mean (see
 * {@link SoftmaxCrossEntropyOptions}). Rows whose target is `options.ignoreIndex` give 0
 * and no gradient. A target outside `[0, C)` (and not ignored) is an error, raised before any
 * kernel runs on backends that read synchronously.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: SoftmaxCrossEntropyOptions = {},
): Tensor {
  const op = 'softmaxCrossEntropy';
  checkClassTargets(logits, targets, op);
  const [rows, classes] = logits.shape;
  const ignoreIndex = options.ignoreIndex ?? NO_IGNORED_CLASS;
  if (!Number.isInteger(ignoreIndex) || ignoreIndex < NO_IGNORED_CLASS || ignoreIndex > 2147483647)
    throw new Error(`${op}: ignoreIndex must be an int32, got ${ignoreIndex}`);
  const reduction = options.reduction ?? 'none';
  if (reduction !== 'none' && reduction !== 'mean')
    throw new Error(`${op}: reduction must be 'none' or 'mean', got ${String(reduction)}`);
  checkIndexRange(targets, classes, op, ignoreIndex);
  const backend = sameBackend(op, logits, targets);
  let loss: Tensor;
  let shift: Tensor;
  let logSum: Tensor;
  if (hasFused(backend, 'softmaxCrossEntropy')) {
    loss = Tensor.empty([rows], 'float32', backend);
    shift = Tensor.empty([rows], 'float32', backend);
    logSum = Tensor.empty([rows], 'float32', backend);
    if (rows > 0) {
      withDenseBuffers(op, [logits, targets, loss, shift, logSum], (lb, tb, ob, sb, ls) =>
        backend.kernels.softmaxCrossEntropy!({
          logits: lb!,
          targets: tb!,
          loss: ob!,
          shift: sb!,
          logSum: ls!,
          rows,
          classes,
          ignoreIndex,
        }),
      );
    }
  } else {
    [loss, shift, logSum] = noGrad(() =>
      tidy(() => {
        const ignored = targets.eq(ignoreIndex);
        const safe = where(ignored, 0, targets);
        const rowMax = max(logits, 1, true);
        const s = where(rowMax.eq(Number.NEGATIVE_INFINITY), 0, rowMax);
        const ls = logits.sub(s).exp().sum(1).log();
        const picked = gather(logits, 1, safe.unsqueeze(1)).squeeze(1);
        const perRow = s.squeeze(1).sub(picked).add(ls);
        return [where(ignored, 0, perRow), s.squeeze(1), ls];
      }),
    );
  }
  const column = (t: Tensor) => reshape(t, [rows, 1]);
  if (reduction === 'mean') {
    const count = countKeptRows(targets, ignoreIndex, op);
    const total = sumOverCount(loss, count, op);
    const saved = [logits, targets, shift, logSum, count];
    record(total, op, [logits, null], saved, (g, [sl, st, sShift, sLogSum, sCount]) => {
      const [dlogits] = pointwise(
        MEAN_BACKWARD,
        [sl, column(sShift), column(sLogSum), column(st), reshape(g, [1, 1]), reshape(sCount, [1, 1])],
        [ignoreIndex],
      );
      return [dlogits];
    });
    for (const t of [loss, shift, logSum, count]) t.dispose();
    return total;
  }
  record(loss, op, [logits, null], [logits, targets, shift, logSum], (g, [sl, st, sShift, sLogSum]) => {
    const [dlogits] = pointwise(
      ROW_BACKWARD,
      [sl, column(sShift), column(sLogSum), column(st), column(g)],
      [ignoreIndex],
    );
    return [dlogits];
  });
  shift.dispose();
  logSum.dispose();
  return loss;
}
