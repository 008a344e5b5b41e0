/**
 * `BatchNorm`: the forward and the running-statistics rule shared by the batch-norm layers
 * (PyTorch's `_BatchNorm`). Subclasses only say which input ranks they accept.
 */
import { batchNormDims, batchNormTrain, guardValue, noGrad, type Tensor, tidy } from '@nabla/core';
import { checkBatchNormInput, countBatch, updateRunningStats } from './batch-norm-stats.js';
import { batchNorm, relu } from './functional.js';
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
   * in training with running statistics, then counts the batch and updates them in place
   * (an empty batch gives an empty output and only counts).
   * Eval with running statistics: normalizes with them. Every check runs before any state
   * changes.
   */
  forward(x: Tensor): Tensor {
    return this.normalize(x, false);
  }

  /**
   * @internal `relu(this.forward(x))`, equal in every output, gradient and state change, with
   * the ReLU fused into the batch-norm kernels (forward and backward) when the batch
   * statistics are used; in eval with running statistics it is the two ops one after the
   * other. `Sequential` calls it for a BatchNorm followed directly by a `ReLU`.
   */
  forwardRelu(x: Tensor): Tensor {
    return this.normalize(x, true);
  }

  private normalize(x: Tensor, withRelu: boolean): Tensor {
    this.checkInputDim(x);
    // A compiled step captures train and eval mode separately (guardValue).
    const training = guardValue('BatchNorm training mode', () => this.training);
    const batchStats = training || !this.trackRunningStats;
    checkBatchNormInput(x, this.runningMean, this.weight, batchStats);
    if (!batchStats) {
      const y = batchNorm(x, {
        runningMean: this.runningMean,
        runningVar: this.runningVar,
        weight: this.weight,
        bias: this.bias,
        training: false,
        eps: this.eps,
      });
      return withRelu ? relu(y) : y;
    }
    return tidy(() => {
      const opts = { relu: withRelu };
      const { output, mean, variance } = batchNormTrain(x, this.weight, this.bias, this.eps, opts);
      if (training && this.trackRunningStats) this.track(x, mean, variance);
      return output;
    });
  }

  /**
   * numBatchesTracked += 1, then the running-average update with this batch's statistics
   * (one kernel each); an empty batch only counts, as in PyTorch.
   */
  private track(x: Tensor, mean: Tensor, variance: Tensor): void {
    const counter = this.numBatchesTracked!;
    noGrad(() => {
      countBatch(counter);
      const { n, l } = batchNormDims(x);
      if (n * l === 0) return;
      // momentum null: cumulative average, factor 1/count read from the counter on the device.
      const momentum = this.momentum === null ? counter : this.momentum;
      updateRunningStats(this.runningMean!, this.runningVar!, mean, variance, n * l, momentum);
    });
  }
}
