/**
 * The fused operations: one autograd node each, computed by the backend's fused kernel when
 * `backend.capabilities.fused` lists it, else composed from primitive ops. Both paths give
 * the same numbers (the conformance suite checks it; `composedOnly` forces the composition).
 */
import { noGrad } from '../autograd.js';
import type { AdamStepArgs, Backend, BackendBuffer, FusedKernel, SgdStepArgs } from '../backend.js';
import { tidy } from '../scope.js';
import { formatShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { full } from './creation.js';
import { where } from './elementwise.js';
import { record, requireFloat, sameBackend } from './graph.js';
import { checkIndexRange, gather, oneHot } from './indexing.js';
import { matmul } from './matmul.js';
import { mean, sum } from './reduce.js';
import { logSumExp } from './softmax.js';
import { dense, reshape } from './views.js';

let forceComposed = 0;

/** Runs `fn` with every fused kernel disabled, so ops take their composed path (for tests and debugging). */
export function composedOnly<T>(fn: () => T): T {
  forceComposed++;
  try {
    return fn();
  } finally {
    forceComposed--;
  }
}

function hasFused(backend: Backend, kernel: FusedKernel): boolean {
  return forceComposed === 0 && backend.capabilities.fused.includes(kernel);
}

/**
 * Calls a fused kernel with the buffers of `tensors` made dense (null stays null; a tensor
 * that already owns row-major memory is passed as is), then frees the copies it made.
 */
function withDenseBuffers<T>(
  op: string,
  tensors: readonly (Tensor | null)[],
  kernel: (buffers: (BackendBuffer | null)[]) => T,
): T {
  const denseTensors = tensors.map((t) => t && dense(t));
  try {
    return kernel(denseTensors.map((t) => t?.storageFor(op).buffer ?? null));
  } finally {
    denseTensors.forEach((d, i) => {
      if (d && d !== tensors[i]) d.dispose();
    });
  }
}

function checkVector(op: string, name: string, t: Tensor | null, c: number): void {
  if (t && (t.rank !== 1 || t.shape[0] !== c)) {
    throw new Error(`${op}: ${name} should have shape [${c}], got ${formatShape(t.shape)}`);
  }
}

/** Result of {@link batchNormTrain}. */
export interface BatchNormTrainResult {
  /** Normalised (and affine-transformed) input, same shape as x; differentiable. */
  output: Tensor;
  /** Per-channel batch mean `[C]` (no gradient). */
  mean: Tensor;
  /** Per-channel `1/sqrt(biasedVar + eps)` `[C]` (no gradient). */
  invStd: Tensor;
}

/**
 * Batch normalisation with batch statistics: x is `(N, C)` or `(N, C, L)`, statistics per
 * channel over N (and L) with the biased variance. Gradients reach x, weight and bias
 * through the statistics. Running-stat updates belong to the caller (`nn.BatchNorm1d`).
 */
export function batchNormTrain(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): BatchNormTrainResult {
  const op = 'batchNormTrain';
  requireFloat(op, x);
  if (x.rank !== 2 && x.rank !== 3) throw new Error(`${op}: expected 2D or 3D input (got ${x.rank}D input)`);
  const [n, c] = x.shape;
  const l = x.rank === 3 ? x.shape[2] : 1;
  checkVector(op, 'weight', weight, c);
  checkVector(op, 'bias', bias, c);
  const backend = sameBackend(op, x, ...[weight, bias].filter((t): t is Tensor => t !== null));
  const shape = { n, c, l };
  let output: Tensor;
  let meanT: Tensor;
  let invStd: Tensor;
  if (hasFused(backend, 'batchNormTrain')) {
    const out = Tensor.empty(x.shape, 'float32', backend);
    const outMean = Tensor.empty([c], 'float32', backend);
    const outInvStd = Tensor.empty([c], 'float32', backend);
    withDenseBuffers(op, [x, weight, bias, out, outMean, outInvStd], ([xb, wb, bb, ob, mb, ib]) =>
      backend.batchNormTrain!(xb!, wb, bb, ob!, mb!, ib!, shape, eps),
    );
    [output, meanT, invStd] = [out, outMean, outInvStd];
  } else {
    [output, meanT, invStd] = noGrad(() =>
      tidy(() => {
        const { centered, mean: mu } = centerByChannel(reshape(x, [n, c, l]));
        const istd = mean(centered.square(), [0, 2], true).add(eps).rsqrt();
        let y = centered.mul(istd);
        if (weight) y = y.mul(reshape(weight, [1, c, 1]));
        if (bias) y = y.add(reshape(bias, [1, c, 1]));
        return [
          reshape(y, x.shape).contiguous(),
          reshape(mu, [c]).contiguous(),
          reshape(istd, [c]).contiguous(),
        ];
      }),
    );
  }
  const saved = [x, meanT, invStd, ...(weight ? [weight] : [])];
  record(output, op, [x, weight, bias], saved, (g, [sx, sMean, sInv, sW], needs) => {
    const { dx, dgamma, dbeta } = batchNormBackward(g, sx, sMean, sInv, sW ?? null);
    return [needs[0] ? dx : null, needs[1] ? dgamma : null, needs[2] ? dbeta : null];
  });
  return { output, mean: meanT, invStd };
}

/**
 * `x3 - mean` per channel of an `(N, C, L)` tensor, and that mean. Values are first shifted
 * by one sample of their channel: the difference is exact in float32 for values of similar
 * magnitude, so the centred values keep full precision when |mean| >> std (a float32 mean
 * of values near 1e4 is only good to about 5e-4, which is 1% of a 0.05 spread).
 */
function centerByChannel(x3: Tensor): { centered: Tensor; mean: Tensor } {
  const [n, c, l] = x3.shape;
  const pivot = n * l > 0 ? x3.slice(0, 0, 1).slice(2, 0, 1) : full([1, c, 1], 0, { backend: x3.backend });
  const shifted = x3.sub(pivot);
  const shiftedMean = mean(shifted, [0, 2], true);
  return { centered: shifted.sub(shiftedMean), mean: shiftedMean.add(pivot) };
}

/** The closed-form gradient of {@link batchNormTrain}; no autograd. */
export function batchNormBackward(
  dy: Tensor,
  x: Tensor,
  meanT: Tensor,
  invStd: Tensor,
  weight: Tensor | null,
): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const op = 'batchNormBackward';
  const [n, c] = x.shape;
  const l = x.rank === 3 ? x.shape[2] : 1;
  const backend = x.backendFor(op);
  if (hasFused(backend, 'batchNormBackward')) {
    const dx = Tensor.empty(x.shape, 'float32', backend);
    const dgamma = Tensor.empty([c], 'float32', backend);
    const dbeta = Tensor.empty([c], 'float32', backend);
    withDenseBuffers(
      op,
      [dy, x, meanT, invStd, weight, dx, dgamma, dbeta],
      ([dyb, xb, mb, ib, wb, dxb, dgb, dbb]) =>
        backend.batchNormBackward!(dyb!, xb!, mb!, ib!, wb, dxb!, dgb!, dbb!, { n, c, l }),
    );
    return { dx, dgamma, dbeta };
  }
  return noGrad(() =>
    tidy(() => {
      const m = n * l;
      const dy3 = reshape(dy, [n, c, l]);
      const inv = reshape(invStd, [1, c, 1]);
      // Recentred from x (not from the rounded meanT), as in the forward, for |mean| >> std.
      const xhat = centerByChannel(reshape(x, [n, c, l])).centered.mul(inv);
      const dbeta = sum(dy3, [0, 2]);
      const dgamma = sum(dy3.mul(xhat), [0, 2]);
      let scale = inv.mul(1 / m);
      if (weight) scale = scale.mul(reshape(weight, [1, c, 1]));
      const inner = dy3
        .mul(m)
        .sub(reshape(dbeta, [1, c, 1]))
        .sub(xhat.mul(reshape(dgamma, [1, c, 1])));
      return { dx: reshape(inner.mul(scale), x.shape).contiguous(), dgamma, dbeta };
    }),
  );
}

/**
 * `x · weightᵀ + bias` (PyTorch's Linear layout: weight is `[out, in]`), optionally followed
 * by ReLU in the same kernel. x is `(*, in)`.
 */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: { relu?: boolean } = {},
): Tensor {
  const op = 'linear';
  requireFloat(op, x);
  if (weight.rank !== 2)
    throw new Error(`${op}: weight must be 2D [out, in], got ${formatShape(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.rank === 0 || x.shape[x.rank - 1] !== inF) {
    throw new Error(
      `${op}: input shape ${formatShape(x.shape)} does not match weight shape ${formatShape(weight.shape)}: expected the last dimension of the input to be ${inF}`,
    );
  }
  checkVector(op, 'bias', bias, outF);
  const backend = sameBackend(op, x, weight, ...(bias ? [bias] : []));
  const relu = options.relu ?? false;
  const rows = sizeOf(x.shape.slice(0, -1)); // not x.size / inF, which is 0 when inF is 0
  const outShape = [...x.shape.slice(0, -1), outF];
  let out: Tensor;
  if (hasFused(backend, 'linear') && inF > 0) {
    const y = Tensor.empty(outShape, 'float32', backend);
    if (y.size > 0) {
      withDenseBuffers(op, [x, weight, bias, y], ([xb, wb, bb, yb]) =>
        backend.linear!(xb!, wb!, bb, yb!, rows, outF, inF, relu),
      );
    }
    out = y;
  } else {
    out = noGrad(() =>
      tidy(() => {
        let y = matmul(reshape(x, [rows, inF]), weight.t());
        if (bias) y = y.add(bias);
        if (relu) y = y.relu();
        return reshape(y, outShape);
      }),
    );
  }
  return record(
    out,
    op,
    [x, weight, bias],
    relu ? [x, weight, out] : [x, weight],
    (g, [sx, sw, so], needs) => {
      let g2 = reshape(g, [rows, outF]);
      if (relu) g2 = g2.mul(reshape(so, [rows, outF]).gt(0).float());
      const x2 = reshape(sx, [rows, inF]);
      return [
        needs[0] ? reshape(matmul(g2, sw), sx.shape) : null,
        needs[1] ? matmul(g2.t(), x2) : null,
        needs[2] ? sum(g2, 0) : null,
      ];
    },
  );
}

/**
 * Per-row softmax cross-entropy of `logits [N, C]` against int32 class `targets [N]`:
 * `logSumExp(logits[r]) - logits[r, t_r]`; rows whose target is `ignoreIndex` give 0.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: { ignoreIndex?: number } = {},
): Tensor {
  const op = 'softmaxCrossEntropy';
  requireFloat(op, logits);
  if (logits.rank !== 2) throw new Error(`${op}: logits must be 2D [N, C], got ${formatShape(logits.shape)}`);
  if (targets.dtype !== 'int32')
    throw new Error(`${op}: targets must be int32 class indices, got ${targets.dtype}`);
  const [rows, classes] = logits.shape;
  if (targets.rank !== 1 || targets.shape[0] !== rows) {
    throw new Error(
      `${op}: expected targets of shape [${rows}] for logits ${formatShape(logits.shape)}, got ${formatShape(targets.shape)}`,
    );
  }
  const ignoreIndex = options.ignoreIndex ?? -100;
  checkIndexRange(targets, classes, op, ignoreIndex);
  const backend = sameBackend(op, logits, targets);
  let loss: Tensor;
  let lse: Tensor;
  if (hasFused(backend, 'softmaxCrossEntropy')) {
    const rowLoss = Tensor.empty([rows], 'float32', backend);
    const rowLse = Tensor.empty([rows], 'float32', backend);
    if (rows > 0) {
      withDenseBuffers(op, [logits, targets, rowLoss, rowLse], ([lb, tb, ob, sb]) =>
        backend.softmaxCrossEntropy!(lb!, tb!, ob!, sb!, rows, classes, ignoreIndex),
      );
    }
    [loss, lse] = [rowLoss, rowLse];
  } else {
    [loss, lse] = noGrad(() =>
      tidy(() => {
        const ignored = targets.eq(ignoreIndex);
        const safe = where(ignored, 0, targets);
        const l = logSumExp(logits, 1);
        const picked = gather(logits, 1, safe.unsqueeze(1)).squeeze(1);
        return [where(ignored, 0, l.sub(picked)), l];
      }),
    );
  }
  record(loss, op, [logits, null], [logits, targets, lse], (g, [sl, st, slse]) => [
    softmaxCrossEntropyBackward(sl, st, slse, g, ignoreIndex),
  ]);
  lse.dispose();
  return loss;
}

function softmaxCrossEntropyBackward(
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  gradLoss: Tensor,
  ignoreIndex: number,
): Tensor {
  const op = 'softmaxCrossEntropyBackward';
  const [rows, classes] = logits.shape;
  const backend = logits.backendFor(op);
  if (hasFused(backend, 'softmaxCrossEntropy')) {
    // The saved logits and targets may be views (a slice, a transpose): the kernel reads dense buffers.
    const out = Tensor.empty([rows, classes], 'float32', backend);
    withDenseBuffers(op, [logits, targets, lse, gradLoss, out], ([lb, tb, sb, gb, ob]) =>
      backend.softmaxCrossEntropyBackward!(lb!, tb!, sb!, gb!, ob!, rows, classes, ignoreIndex),
    );
    return out;
  }
  return tidy(() => {
    const ignored = targets.eq(ignoreIndex);
    const probs = logits.sub(lse.unsqueeze(1)).exp();
    const hot = oneHot(where(ignored, 0, targets), classes).float();
    const keepRow = ignored.eq(0).float().unsqueeze(1);
    return probs.sub(hot).mul(gradLoss.unsqueeze(1)).mul(keepRow);
  });
}

/** Bumps the version of tensors a fused kernel wrote in place (see `Tensor.version`). */
function markModified(...written: (Tensor | null)[]): void {
  for (const t of written) t?.markModified();
}

/**
 * Checks what every in-place optimizer step needs: a parameter owning contiguous memory, a
 * gradient and state tensors of its shape (state must own memory: it is written in place),
 * all on one backend, which it returns.
 */
function checkOptimizerStep(
  op: string,
  param: Tensor,
  grad: Tensor,
  state: Record<string, Tensor | null>,
): Backend {
  if (!param.isDense) throw new Error(`${op}: the parameter must own contiguous memory`);
  const present: Tensor[] = [];
  for (const [name, t] of [['grad', grad] as const, ...Object.entries(state)]) {
    if (!t) continue;
    if (t.shape.length !== param.shape.length || t.shape.some((d, i) => d !== param.shape[i])) {
      throw new Error(
        `${op}: ${name} has shape ${formatShape(t.shape)} but the parameter has shape ${formatShape(param.shape)}`,
      );
    }
    if (name !== 'grad' && !t.isDense) throw new Error(`${op}: ${name} must own contiguous memory`);
    present.push(t);
  }
  return sameBackend(op, param, ...present);
}

/**
 * One in-place SGD update of `param` (PyTorch's rule, including the first-step momentum
 * buffer copy, dampening, Nesterov and coupled weight decay). `momentumBuffer` is required
 * when `args.momentum` is non-zero.
 */
export function sgdStep(param: Tensor, grad: Tensor, momentumBuffer: Tensor | null, args: SgdStepArgs): void {
  const op = 'sgdStep';
  if (args.momentum !== 0 && !momentumBuffer)
    throw new Error(`${op}: momentum ${args.momentum} needs a momentum buffer`);
  const backend = checkOptimizerStep(op, param, grad, { momentumBuffer });
  if (param.size === 0) return;
  if (hasFused(backend, 'sgdStep')) {
    withDenseBuffers(op, [param, grad, momentumBuffer], ([pb, gb, mb]) =>
      backend.sgdStep!(pb!, gb!, mb, args),
    );
    markModified(param, momentumBuffer);
    return;
  }
  noGrad(() =>
    tidy(() => {
      let g = grad;
      if (args.weightDecay !== 0) g = g.add(param.mul(args.weightDecay));
      if (args.momentum !== 0 && momentumBuffer) {
        const buf = args.firstStep ? g : momentumBuffer.mul(args.momentum).add(g.mul(1 - args.dampening));
        momentumBuffer.assign(buf);
        g = args.nesterov ? g.add(momentumBuffer.mul(args.momentum)) : momentumBuffer;
      }
      param.assign(param.sub(g.mul(args.lr)));
    }),
  );
}

/** One in-place Adam (or, with `decoupled`, AdamW) update of `param`, `m`, `v` (and `vMax` with amsgrad). */
export function adamStep(
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  vMax: Tensor | null,
  args: AdamStepArgs,
): void {
  const op = 'adamStep';
  if (args.amsgrad && !vMax) throw new Error(`${op}: amsgrad needs a vMax buffer`);
  if (!Number.isInteger(args.step) || args.step < 1)
    throw new Error(`${op}: step must be a positive integer, got ${args.step}`);
  const backend = checkOptimizerStep(op, param, grad, { m, v, vMax });
  if (param.size === 0) return;
  if (hasFused(backend, 'adamStep')) {
    withDenseBuffers(op, [param, grad, m, v, vMax], ([pb, gb, mb, vb, xb]) =>
      backend.adamStep!(pb!, gb!, mb!, vb!, xb, args),
    );
    markModified(param, m, v, vMax);
    return;
  }
  noGrad(() =>
    tidy(() => {
      let g = grad;
      if (args.decoupled) param.assign(param.mul(1 - args.lr * args.weightDecay));
      else if (args.weightDecay !== 0) g = g.add(param.mul(args.weightDecay));
      m.assign(m.mul(args.beta1).add(g.mul(1 - args.beta1)));
      v.assign(v.mul(args.beta2).add(g.mul(g).mul(1 - args.beta2)));
      const bc1 = 1 - args.beta1 ** args.step;
      const bc2Sqrt = Math.sqrt(1 - args.beta2 ** args.step);
      let second = v;
      if (args.amsgrad && vMax) {
        vMax.assign(vMax.maximum(v));
        second = vMax;
      }
      const denom = second.sqrt().div(bc2Sqrt).add(args.eps);
      param.assign(param.sub(m.div(denom).mul(args.lr / bc1)));
    }),
  );
}
