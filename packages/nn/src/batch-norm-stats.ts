/**
 * The batch-norm pieces that are PyTorch conventions rather than kernels: the input checks
 * (PyTorch's words, in its order), eval-mode normalization with running statistics, and the
 * running-statistics rules (momentum, the unbiased `n/(n-1)` factor, the cumulative average
 * of `momentum: null`, `num_batches_tracked`) as one in-place pointwise program. Core's
 * statistics pass only returns the batch mean and biased variance. Internal to @nabla/nn.
 */
import {
  batchNormDims,
  E,
  type Expr,
  type PointwiseProgram,
  pointwiseInto,
  pointwiseProgram,
  type Tensor,
} from '@nabla/core';

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * The checks PyTorch makes, in its order: the input rank (core's words), at least two values
 * per channel when batch statistics are taken, then the channel count against running stats
 * (or weight).
 */
export function checkBatchNormInput(
  x: Tensor,
  runningMean: Tensor | null,
  weight: Tensor | null,
  batchStats: boolean,
): void {
  const { c } = batchNormDims(x);
  if (batchStats && x.size / c === 1) {
    throw new Error(`Expected more than 1 value per channel when training, got input size ${fmt(x.shape)}`);
  }
  const reference = runningMean ? ['running_mean', runningMean] : weight ? ['weight', weight] : null;
  if (reference && (reference[1] as Tensor).size !== c) {
    throw new Error(
      `${reference[0] as string} should contain ${c} elements not ${(reference[1] as Tensor).size}`,
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
 * `running = (1 - f)·running + f·batch` for the mean and for the variance made unbiased by
 * `n/(n-1)`. The factor f is the per-call scalar `momentum`, or (cumulative, `momentum:
 * null`) `1 / num_batches_tracked` read from the int32 counter on the device, so no value
 * is read back to the host. Inputs: running mean, running variance, batch mean, batch
 * variance (and the counter); scalars: momentum (unused when cumulative), n/(n-1).
 */
function runningStatsProgram(cumulative: boolean): PointwiseProgram {
  const [runMean, runVar, mean, variance] = [0, 1, 2, 3].map((i) => E.input(i));
  const factor: Expr = cumulative ? E.recip(E.cast(E.input(4, 'int32'), 'float32')) : E.scalar(0);
  const keep = E.sub(1, factor);
  const unbiased = E.mul(variance, E.scalar(1));
  return pointwiseProgram(cumulative ? 'batchNormRunningStatsCumulative' : 'batchNormRunningStats', {
    inputs: ['float32', 'float32', 'float32', 'float32', ...(cumulative ? (['int32'] as const) : [])],
    scalars: ['float32', 'float32'],
    outputs: [
      E.add(E.mul(factor, mean), E.mul(keep, runMean)),
      E.add(E.mul(factor, unbiased), E.mul(keep, runVar)),
    ],
  });
}

const RUNNING_STATS = runningStatsProgram(false);
const RUNNING_STATS_CUMULATIVE = runningStatsProgram(true);
const COUNT_BATCH = pointwiseProgram('numBatchesTracked', {
  inputs: ['int32'],
  outputs: [E.add(E.input(0, 'int32'), 1)],
});

/** `num_batches_tracked += 1`, in place. */
export function countBatch(numBatchesTracked: Tensor): void {
  pointwiseInto(COUNT_BATCH, [numBatchesTracked], [], [numBatchesTracked]);
}

/**
 * Updates `runningMean` and `runningVar` in place (one kernel) with this batch's `mean` and
 * biased `variance` over `count` values per channel. `momentum` is a number, or the
 * `num_batches_tracked` counter for the cumulative average (`momentum: null`; count the
 * batch first). A batch of one value per channel or fewer is not an update: the caller
 * skips it (an empty batch leaves the statistics unchanged, as in PyTorch).
 */
export function updateRunningStats(
  runningMean: Tensor,
  runningVar: Tensor,
  mean: Tensor,
  variance: Tensor,
  count: number,
  momentum: number | Tensor,
): void {
  const unbias = count / (count - 1);
  const stats = [runningMean, runningVar, mean, variance];
  if (typeof momentum === 'number')
    pointwiseInto(RUNNING_STATS, stats, [momentum, unbias], [runningMean, runningVar]);
  else pointwiseInto(RUNNING_STATS_CUMULATIVE, [...stats, momentum], [0, unbias], [runningMean, runningVar]);
}
