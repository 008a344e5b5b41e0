/**
 * `softmaxCrossEntropy`: the per-row loss `logSumExp(logits[r]) - logits[r, t_r]` as one op.
 * The forward is a row reduction (the backend's fused kernel where it has one, else composed
 * from `logSumExp` and `gather`); the backward is one pointwise program, the same on every
 * backend. PyTorch's conventions (the default `ignoreIndex` of -100, reductions, label
 * smoothing) belong to `@nabla/nn`; this op only knows which class, if any, to ignore.
 */
import { noGrad } from '../autograd.js';
import { E } from '../expr/expr.js';
import { pointwiseProgram } from '../expr/program.js';
import { tidy } from '../scope.js';
import { formatShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { where } from './elementwise.js';
import { hasFused, withDenseBuffers } from './fused-kernels.js';
import { record, requireFloat, sameBackend } from './graph.js';
import { checkIndexRange, gather } from './indexing.js';
import { pointwise } from './pointwise.js';
import { max } from './reduce.js';
import { reshape } from './views.js';

/** The ignoreIndex passed to kernels when no class is ignored: no valid target equals it. */
const NO_IGNORED_CLASS = -2147483648;

/**
 * `dlogits = [t != ignore] ? (exp((logit - shift) - logSum) - [class == t]) · g : 0` over
 * logits `[N, C]`, with shift, logSum, t and g as `[N, 1]` columns and the class the
 * element's column (`E.index(1)`: no class-index tensor to allocate and write every step).
 * Subtracting the row's shift first keeps full precision for large logits, where a float32
 * log-sum-exp would be rounded by up to half an ulp of its size.
 */
const crossEntropyBackward = pointwiseProgram('softmaxCrossEntropyBackward', {
  inputs: ['float32', 'float32', 'float32', 'int32', 'float32'],
  scalars: ['int32'],
  outputs: [
    (() => {
      const [logit, shift, logSum, g] = [E.input(0), E.input(1), E.input(2), E.input(4)];
      const [target, cls] = [E.input(3, 'int32'), E.index(1)];
      const prob = E.exp(E.sub(E.sub(logit, shift), logSum));
      const d = E.mul(E.sub(prob, E.select(E.eq(cls, target), 1, 0)), g);
      return E.select(E.ne(target, E.scalar(0, 'int32')), d, 0);
    })(),
  ],
});

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

/**
 * Per-row softmax cross-entropy of `logits [N, C]` against int32 class `targets [N]`:
 * `logSumExp(logits[r]) - logits[r, t_r]`. Rows whose target is `options.ignoreIndex` give 0
 * and no gradient; without it, no class is ignored. A target outside `[0, C)` (and not
 * ignored) is an error, raised before any kernel runs on backends that read synchronously.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: { ignoreIndex?: number } = {},
): Tensor {
  const op = 'softmaxCrossEntropy';
  checkClassTargets(logits, targets, op);
  const [rows, classes] = logits.shape;
  const ignoreIndex = options.ignoreIndex ?? NO_IGNORED_CLASS;
  if (!Number.isInteger(ignoreIndex) || ignoreIndex < NO_IGNORED_CLASS || ignoreIndex > 2147483647)
    throw new Error(`${op}: ignoreIndex must be an int32, got ${ignoreIndex}`);
  checkIndexRange(targets, classes, op, ignoreIndex);
  const backend = sameBackend(op, logits, targets);
  let loss: Tensor;
  let shift: Tensor;
  let logSum: Tensor;
  if (hasFused(backend, 'softmaxCrossEntropy')) {
    [loss, shift, logSum] = [0, 1, 2].map(() => Tensor.empty([rows], 'float32', backend));
    if (rows > 0) {
      withDenseBuffers(op, [logits, targets, loss, shift, logSum], ([lb, tb, ob, sb, ls]) =>
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
  record(loss, op, [logits, null], [logits, targets, shift, logSum], (g, [sl, st, sShift, sLogSum]) => {
    const column = (t: Tensor) => reshape(t, [rows, 1]);
    const [dlogits] = pointwise(
      crossEntropyBackward,
      [sl, column(sShift), column(sLogSum), column(st), column(g)],
      [ignoreIndex],
    );
    return [dlogits];
  });
  shift.dispose();
  logSum.dispose();
  return loss;
}
