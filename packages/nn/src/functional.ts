/**
 * Stateless functions behind the modules (`import { functional as F } from '@nabla/nn'`).
 * Each checks its inputs with PyTorch's error words and composes core ops, so autograd and
 * every backend come for free; the fused core entry points are used where they exist.
 *
 * @module
 */
import * as core from '@nabla/core';
import { rand, type Tensor, tidy } from '@nabla/core';
import { checkBatchNormInput, normalizeWithRunning, updateRunningStats } from './batch-norm-stats.js';
import { flattenSpatial } from './losses-functional.js';
import { crossEntropyWithProbabilities } from './soft-targets.js';

/** How a loss combines its per-element values. */
export type Reduction = 'mean' | 'sum' | 'none';

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** `max(x, 0)`; the gradient at exactly 0 is 0, as in PyTorch. */
export function relu(x: Tensor): Tensor {
  return x.relu();
}

/** Logistic sigmoid `1 / (1 + e^-x)`. */
export function sigmoid(x: Tensor): Tensor {
  return x.sigmoid();
}

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return x.tanh();
}

export { type GeluOptions, gelu, leakyRelu, silu } from '@nabla/core';
export { layerNorm } from './layer-norm.js';
export * from './losses-functional.js';

/**
 * `x · weightᵀ + bias` for `x: [..., in]`, `weight: [out, in]`, `bias: [out] | null`.
 * `relu: true` fuses a ReLU (the backend's `linear` kernel epilogue when it has one).
 * Shapes are checked by core, with PyTorch's words.
 */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: { relu?: boolean } = {},
): Tensor {
  return core.linear(x, weight, bias, { relu: options.relu ?? false });
}

/** Checks a dropout probability with PyTorch's words. */
export function checkDropoutProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
}

/**
 * Inverted dropout: in training, zeroes each element with probability `p` and scales the
 * others by `1 / (1 - p)` (so eval needs no rescaling); identity when `training` is false.
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkDropoutProbability(p);
  if (!training || p === 0) return x.clone();
  if (p === 1) return x.mul(0);
  return tidy(() => {
    const scaledMask = rand(x.shape, { backend: x.backend })
      .ge(p)
      .float()
      .mul(1 / (1 - p));
    return x.mul(scaledMask);
  });
}

/** Flattens dims `startDim..endDim` into one (defaults keep the batch dim, like `nn.Flatten`). */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  return x.flatten(startDim, endDim);
}

/** Softmax along `dim`. */
export function softmax(x: Tensor, dim: number): Tensor {
  return x.softmax(dim);
}

/** Numerically stable `log(softmax(x))` along `dim`. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return x.logSoftmax(dim);
}

function reduce(perElement: Tensor, reduction: Reduction, op: string): Tensor {
  switch (reduction) {
    case 'none':
      return perElement;
    case 'sum':
      return perElement.sum();
    case 'mean':
      return perElement.mean();
    default:
      throw new Error(
        `${op}: ${String(reduction)} is not a valid value for reduction (use 'mean', 'sum' or 'none')`,
      );
  }
}

/** PyTorch's default `ignore_index` for class-index losses: no real class is -100. */
export const DEFAULT_IGNORE_INDEX = -100;

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** Mixes the one-hot target with the uniform distribution: `(1-ε)·onehot + ε/C`. */
  labelSmoothing?: number;
  /** Rows whose target is this value contribute nothing (and are not counted by 'mean'). */
  ignoreIndex?: number;
}

/**
 * Cross-entropy of `logits: [N, C]` against int32 class indices `targets: [N]`, PyTorch's
 * definition: per row `(1-ε)·(lse - x[t]) + (ε/C)·Σ_c (lse - x[c])`; ignored rows give 0;
 * 'mean' divides by the number of rows not ignored (NaN when all are, as in PyTorch).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const reduction = options.reduction ?? 'mean';
  const smoothing = options.labelSmoothing ?? 0;
  const ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  if (logits.rank === 2 && targets.dtype === 'float32' && targets.rank === 2) {
    if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none')
      reduce(logits, reduction, 'cross_entropy');
    return crossEntropyWithProbabilities(logits, targets, reduction, smoothing);
  }
  if (logits.rank > 2 && targets.dtype === 'int32') {
    // (N, C, d1, ...): the same loss over every position, classes moved last.
    return tidy(() => {
      const flat = flattenSpatial(logits, targets)!;
      const out = crossEntropy(flat.input, flat.target, options);
      return reduction === 'none' ? out.reshape(targets.shape) : out;
    });
  }
  core.checkClassTargets(logits, targets);
  if (!(smoothing >= 0 && smoothing <= 1)) {
    throw new Error(`label_smoothing must be between 0.0 and 1.0. Got: ${smoothing}`);
  }
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none')
    reduce(logits, reduction, 'cross_entropy');
  const classes = logits.shape[1];
  if (smoothing === 0 && reduction !== 'sum') {
    // One node, its gradient one kernel: core's mean over the rows not ignored.
    return core.softmaxCrossEntropy(logits, targets, { ignoreIndex, reduction });
  }
  return tidy(() => {
    let perRow = core.softmaxCrossEntropy(logits, targets, { ignoreIndex });
    if (smoothing > 0) {
      // Σ_c -log p_c per row, zeroed for ignored rows.
      const uniformTerm = logits.logSoftmax(1).sum(1).neg().mul(core.keptRows(targets, ignoreIndex));
      perRow = perRow.mul(1 - smoothing).add(uniformTerm.mul(smoothing / classes));
    }
    if (reduction === 'none') return perRow;
    if (reduction === 'sum') return perRow.sum();
    return core.meanOverKeptRows(perRow, targets, ignoreIndex);
  });
}

/** Mean squared error `(input - target)²`, reduced. Shapes must match. */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (input.rank !== target.rank || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new Error(
      `mse_loss: input shape ${fmt(input.shape)} and target shape ${fmt(target.shape)} differ; ` +
        'broadcasting them is almost always a bug (reshape the target to the input shape)',
    );
  }
  return tidy(() => reduce(input.sub(target).square(), reduction, 'mse_loss'));
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Use batch statistics (and update running ones when given). */
  training?: boolean;
  /** Weight of the batch in the running-average update: `running = (1-m)·running + m·batch`. */
  momentum?: number;
  eps?: number;
}

/**
 * Functional batch norm over channel dim 1 of `(N, C)` or `(N, C, L)`, PyTorch's
 * `F.batch_norm`: with `training`, normalizes with the batch mean and biased variance and
 * updates `runningMean`/`runningVar` in place with the unbiased variance `n/(n-1)`;
 * otherwise normalizes with the running statistics.
 */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  const { runningMean = null, runningVar = null, weight = null, bias = null } = options;
  const training = options.training ?? false;
  const eps = options.eps ?? 1e-5;
  const momentum = options.momentum ?? 0.1;
  checkBatchNormInput(x, runningMean, weight, training);
  if (!training && (!runningMean || !runningVar)) {
    throw new Error('batch_norm: running_mean and running_var are required when training is false');
  }
  return tidy(() => {
    if (!training) return normalizeWithRunning(x, runningMean!, runningVar!, weight, bias, eps);
    const { output, mean, variance } = core.batchNormTrain(x, weight, bias, eps);
    const { n, l } = core.batchNormDims(x);
    // An empty batch leaves the running statistics unchanged, as in PyTorch.
    if (runningMean && runningVar && n * l > 0)
      core.noGrad(() => updateRunningStats(runningMean, runningVar, mean, variance, n * l, momentum));
    return output;
  });
}
