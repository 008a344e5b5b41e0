/**
 * Cross-entropy against class probabilities (PyTorch's float targets of the logits' shape):
 * `loss_n = -Σ_c q_nc · log_softmax(x)_nc` with `q = (1 - ε)·t + ε/C` under label smoothing ε;
 * `mean` divides by N. Internal to @nabla/nn; `crossEntropy` calls it for float32 `[N, C]` targets.
 */
import { type Tensor, tidy } from '@nabla/core';

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** @internal the probability-target branch of `crossEntropy` (checks already done there: logits [N, C]). */
export function crossEntropyWithProbabilities(
  logits: Tensor,
  targets: Tensor,
  reduction: 'mean' | 'sum' | 'none',
  smoothing: number,
): Tensor {
  if (targets.shape[0] !== logits.shape[0] || targets.shape[1] !== logits.shape[1]) {
    throw new Error(
      `cross_entropy: class-probability targets must have the logits' shape ${fmt(logits.shape)}, got ${fmt(targets.shape)}`,
    );
  }
  if (!(smoothing >= 0 && smoothing <= 1)) {
    throw new Error(`label_smoothing must be between 0.0 and 1.0. Got: ${smoothing}`);
  }
  const classes = logits.shape[1];
  return tidy(() => {
    const q = smoothing > 0 ? targets.mul(1 - smoothing).add(smoothing / classes) : targets;
    const perRow = logits.logSoftmax(1).mul(q).sum(1).neg();
    if (reduction === 'none') return perRow;
    if (reduction === 'sum') return perRow.sum();
    return perRow.mean();
  });
}
