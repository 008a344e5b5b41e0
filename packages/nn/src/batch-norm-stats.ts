/**
 * The batch-norm pieces that are PyTorch conventions rather than kernels: the input checks
 * (PyTorch's words, in its order), eval-mode normalization with running statistics, and the
 * running-average update. Internal to @nabla/nn.
 */
import * as core from '@nabla/core';
import { type Tensor, tidy } from '@nabla/core';

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * The checks PyTorch makes, in its order: at least two values per channel when batch
 * statistics are taken, then the channel count against running stats (or weight).
 */
export function checkBatchNormInput(
  x: Tensor,
  runningMean: Tensor | null,
  weight: Tensor | null,
  batchStats: boolean,
): void {
  if (x.rank < 2)
    throw new Error(`batch_norm: expected an input with a channel dim 1, got shape ${fmt(x.shape)}`);
  if (batchStats) {
    const perChannel = x.size / x.shape[1];
    if (perChannel === 1 || x.shape[1] === 0) {
      throw new Error(`Expected more than 1 value per channel when training, got input size ${fmt(x.shape)}`);
    }
  }
  const channels = x.shape[1];
  const reference = runningMean ? ['running_mean', runningMean] : weight ? ['weight', weight] : null;
  if (reference && (reference[1] as Tensor).size !== channels) {
    throw new Error(
      `${reference[0] as string} should contain ${channels} elements not ${(reference[1] as Tensor).size}`,
    );
  }
  if (x.dtype !== 'float32') throw new Error(`batch_norm: expected a float32 input, got ${x.dtype}`);
}

/** `(x - mean) / sqrt(var + eps) * weight + bias` with per-channel running statistics. */
export function normalizeWithRunning(
  x: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): Tensor {
  // Channel vectors broadcast as [C, 1] against (N, C, L) and as [C] against (N, C).
  const shape = x.rank === 3 ? [x.shape[1], 1] : [x.shape[1]];
  // Subtracting the mean first keeps |mean| >> std inputs accurate.
  let y = x.sub(runningMean.reshape(shape)).mul(runningVar.add(eps).rsqrt().reshape(shape));
  if (weight) y = y.mul(weight.reshape(shape));
  if (bias) y = y.add(bias.reshape(shape));
  return y;
}

/**
 * `running = (1 - m)·running + m·batch`, in place (the buffers keep their identity), with
 * the batch variance recovered from the kernel's inverse std and made unbiased by `n/(n-1)`.
 */
export function updateRunningStats(
  x: Tensor,
  mean: Tensor,
  invStd: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  momentum: number | Tensor,
  eps: number,
): void {
  core.noGrad(() =>
    tidy(() => {
      const n = x.size / x.shape[1];
      const biasedVar = invStd.square().reciprocal().sub(eps);
      const unbiasedVar = biasedVar.mul(n / (n - 1));
      const keepOld = typeof momentum === 'number' ? 1 - momentum : momentum.neg().add(1);
      runningMean.assign(runningMean.mul(keepOld).add(mean.mul(momentum)));
      runningVar.assign(runningVar.mul(keepOld).add(unbiasedVar.mul(momentum)));
    }),
  );
}
