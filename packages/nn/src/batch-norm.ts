/**
 * `BatchNorm`: the forward and the running-statistics rule shared by the batch-norm layers
 * (PyTorch's `_BatchNorm`). Subclasses only say which input ranks they accept.
 */
import { batchNormTrain, noGrad, type Tensor, tidy } from '@nabla/core';
import { checkBatchNormInput, updateRunningStats } from './batch-norm-stats.js';
import { batchNorm } from './functional.js';
import { NormBase } from './norm-base.js';

/**
 * Batch normalization over channel dim 1 (PyTorch's `_BatchNorm`): subclass it and implement
 * {@link BatchNorm.checkInputDim}, as {@link BatchNorm1d} does.
 */
export abstract class BatchNorm extends NormBase {
  /** Throws PyTorch's error when the input rank is not one this layer accepts. */
  protected abstract checkInputDim(x: Tensor): void;

  /**
   * Training (or no running statistics): normalizes with the batch mean and biased
   * variance, through core's `batchNormTrain` (the backend's fused kernel when it has one);
   * in training with running statistics, then updates them in place and counts the batch.
   * Eval with running statistics: normalizes with them. Every check runs before any state
   * changes.
   */
  forward(x: Tensor): Tensor {
    this.checkInputDim(x);
    const batchStats = this.training || !this.trackRunningStats;
    checkBatchNormInput(x, this.runningMean, this.weight, batchStats);
    if (!batchStats) {
      return batchNorm(x, {
        runningMean: this.runningMean,
        runningVar: this.runningVar,
        weight: this.weight,
        bias: this.bias,
        training: false,
        eps: this.eps,
      });
    }
    return tidy(() => {
      const { output, mean, invStd } = batchNormTrain(x, this.weight, this.bias, this.eps);
      if (this.training && this.trackRunningStats) this.track(x, mean, invStd);
      return output;
    });
  }

  /** numBatchesTracked += 1, then the running-average update with this batch's statistics. */
  private track(x: Tensor, mean: Tensor, invStd: Tensor): void {
    const counter = this.numBatchesTracked!;
    noGrad(() => tidy(() => void counter.assign(counter.add(1))));
    // momentum null: cumulative average; the factor is 1/count, computed on the device so
    // no read-back is needed (WebGPU cannot read synchronously).
    const factor = this.momentum === null ? tidy(() => counter.float().reciprocal()) : this.momentum;
    updateRunningStats(x, mean, invStd, this.runningMean!, this.runningVar!, factor, this.eps);
  }
}
