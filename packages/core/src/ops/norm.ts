/**
 * Batch normalisation with batch statistics: the statistics pass (per-channel mean and biased
 * variance, numerically careful: the backend's fused kernel where it has one) and its
 * closed-form gradient, optionally followed by ReLU in the same kernels (forward and
 * backward). The running statistics and their momentum rules belong to the caller
 * (`nn.BatchNorm1d`), which gets the mean and variance to update them with.
 */
import { noGrad } from '../autograd.js';
import { tidy } from '../scope.js';
import { formatShape, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { full, zeros } from './creation.js';
import { where } from './elementwise.js';
import { checkVector, hasFused, withDenseBuffers } from './fused-kernels.js';
import { record, requireFloat, sameBackend } from './graph.js';
import { mean, sum } from './reduce.js';
import { reshape } from './views.js';

/**
 * The input check of batch norm over channel dim 1, with PyTorch's words: x must be
 * `(N, C)` or `(N, C, L)`. Returns N, C and L (1 for a 2D input).
 */
export function batchNormDims(x: Tensor): { n: number; c: number; l: number } {
  if (x.rank !== 2 && x.rank !== 3) throw new Error(`expected 2D or 3D input (got ${x.rank}D input)`);
  return { n: x.shape[0], c: x.shape[1], l: x.rank === 3 ? x.shape[2] : 1 };
}

/** Result of {@link batchNormTrain}. */
export interface BatchNormTrainResult {
  /** Normalised (and affine-transformed, and ReLU'd with `relu`) input, same shape as x; differentiable. */
  output: Tensor;
  /** Per-channel batch mean `[C]` (no gradient; NaN for an empty batch). */
  mean: Tensor;
  /** Per-channel biased batch variance `[C]` (no gradient; NaN for an empty batch). */
  variance: Tensor;
}

/**
 * Batch normalisation with batch statistics: x is `(N, C)` or `(N, C, L)`, statistics per
 * channel over N (and L) with the biased variance; `out = (x - mean) / sqrt(var + eps) ·
 * weight + bias`. With `relu`, the output is then `relu(out)` in the same kernel, equal bit
 * for bit to `batchNormTrain(...).output.relu()` with its gradient, without the extra kernels
 * and buffers. Gradients reach x, weight and bias through the statistics. An empty batch
 * (N·L = 0) gives an empty output and NaN statistics without running a kernel.
 */
export function batchNormTrain(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
  options: { relu?: boolean } = {},
): BatchNormTrainResult {
  const op = 'batchNormTrain';
  const relu = options.relu ?? false;
  requireFloat(op, x);
  const { n, c, l } = batchNormDims(x);
  checkVector(op, 'weight', weight, c);
  checkVector(op, 'bias', bias, c);
  const backend = sameBackend(op, x, ...[weight, bias].filter((t): t is Tensor => t !== null));
  let output: Tensor;
  let meanT: Tensor;
  let variance: Tensor;
  if (n * l === 0) {
    output = Tensor.empty(x.shape, 'float32', backend);
    meanT = full([c], Number.NaN, { backend: backend.name });
    variance = full([c], Number.NaN, { backend: backend.name });
  } else if (hasFused(backend, 'batchNormTrain')) {
    const out = Tensor.empty(x.shape, 'float32', backend);
    const outMean = Tensor.empty([c], 'float32', backend);
    const outVar = Tensor.empty([c], 'float32', backend);
    withDenseBuffers(op, [x, weight, bias, out, outMean, outVar], (xb, wb, bb, ob, mb, vb) =>
      backend.kernels.batchNormTrain!({
        x: xb!,
        gamma: wb,
        beta: bb,
        out: ob!,
        mean: mb!,
        variance: vb!,
        shape: { n, c, l },
        eps,
        relu,
      }),
    );
    [output, meanT, variance] = [out, outMean, outVar];
  } else {
    [output, meanT, variance] = noGrad(() =>
      tidy(() => {
        const { centered, mean: mu } = centerByChannel(reshape(x, [n, c, l]));
        const biasedVar = mean(centered.square(), [0, 2], true);
        let y = centered.mul(biasedVar.add(eps).rsqrt());
        if (weight) y = y.mul(reshape(weight, [1, c, 1]));
        if (bias) y = y.add(reshape(bias, [1, c, 1]));
        if (relu) y = y.relu();
        return [
          reshape(y, x.shape).contiguous(),
          reshape(mu, [c]).contiguous(),
          reshape(biasedVar, [c]).contiguous(),
        ];
      }),
    );
  }
  // The ReLU's output is saved for its mask: gradient 0 where it is <= 0, as relu's is.
  const saved = [x, meanT, variance, ...(weight ? [weight] : []), ...(relu ? [output] : [])];
  record(output, op, [x, weight, bias], saved, (g, s, needs) => {
    const [sx, sMean, sVar] = s;
    const sW = weight ? s[3] : null;
    const sOut = relu ? s[s.length - 1] : null;
    const { dx, dgamma, dbeta } = batchNormBackward(g, sx, sMean, sVar, sW, eps, sOut);
    return [needs[0] ? dx : null, needs[1] ? dgamma : null, needs[2] ? dbeta : null];
  });
  return { output, mean: meanT, variance };
}

/**
 * `x3 - mean` per channel of an `(N, C, L)` tensor, and that mean. Values are first shifted
 * by one sample of their channel: the difference is exact in float32 for values of similar
 * magnitude, so the centred values keep full precision when |mean| >> std (a float32 mean
 * of values near 1e4 is only good to about 5e-4, which is 1% of a 0.05 spread).
 */
function centerByChannel(x3: Tensor): { centered: Tensor; mean: Tensor } {
  const pivot = x3.slice(0, 0, 1).slice(2, 0, 1);
  const shifted = x3.sub(pivot);
  const shiftedMean = mean(shifted, [0, 2], true);
  return { centered: shifted.sub(shiftedMean), mean: shiftedMean.add(pivot) };
}

/** Throws unless `t` (when given) has the shape of `like`. */
function checkShapeOf(op: string, name: string, t: Tensor | null, like: Tensor): void {
  if (t && !sameShape(t.shape, like.shape))
    throw new Error(
      `${op}: ${name} should have shape ${formatShape(like.shape)}, got ${formatShape(t.shape)}`,
    );
}

/**
 * The closed-form gradient of {@link batchNormTrain} from the saved mean and biased
 * variance (`invStd = 1/sqrt(var + eps)`); no autograd. With `reluOutput` (the output of a
 * forward run with `relu`), dy is first masked as relu's gradient masks it:
 * `reluOutput > 0 ? dy : 0`. An empty batch gives an empty dx and zero dgamma and dbeta.
 */
export function batchNormBackward(
  dy: Tensor,
  x: Tensor,
  meanT: Tensor,
  variance: Tensor,
  weight: Tensor | null,
  eps: number,
  reluOutput: Tensor | null = null,
): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const op = 'batchNormBackward';
  const { n, c, l } = batchNormDims(x);
  const backend = x.backendFor(op);
  checkShapeOf(op, 'dy', dy, x);
  checkShapeOf(op, 'reluOutput', reluOutput, x);
  if (n * l === 0) {
    return {
      dx: Tensor.empty(x.shape, 'float32', backend),
      dgamma: zeros([c], { backend: backend.name }),
      dbeta: zeros([c], { backend: backend.name }),
    };
  }
  if (hasFused(backend, 'batchNormBackward')) {
    const dx = Tensor.empty(x.shape, 'float32', backend);
    const dgamma = Tensor.empty([c], 'float32', backend);
    const dbeta = Tensor.empty([c], 'float32', backend);
    withDenseBuffers(
      op,
      [dy, x, meanT, variance, weight, dx, dgamma, dbeta, reluOutput],
      (dyb, xb, mb, vb, wb, dxb, dgb, dbb, rb) =>
        backend.kernels.batchNormBackward!({
          dy: dyb!,
          x: xb!,
          mean: mb!,
          variance: vb!,
          gamma: wb,
          dx: dxb!,
          dgamma: dgb!,
          dbeta: dbb!,
          reluOutput: rb,
          shape: { n, c, l },
          eps,
        }),
    );
    return { dx, dgamma, dbeta };
  }
  return noGrad(() =>
    tidy(() => {
      const m = n * l;
      // relu's own gradient expression, so the composed path matches relu().backward bit for bit
      const dyIn = reluOutput ? where(reluOutput.gt(0), dy, 0) : dy;
      const dy3 = reshape(dyIn, [n, c, l]);
      const inv = reshape(variance.add(eps).rsqrt(), [1, c, 1]);
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
