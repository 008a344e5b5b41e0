/** `BatchNorm1d`: batch norm over channel dim 1 of `(N, C)` or `(N, C, L)` inputs. */
import { batchNormDims, type Tensor } from '@nabla/core';
import { BatchNorm } from './batch-norm.js';

/**
 * Batch normalization with PyTorch's semantics, for `(N, C)` or `(N, C, L)` inputs:
 * statistics per channel over N (and L). In training, the output uses the batch mean and
 * biased variance, and the running statistics follow
 * `running = (1 - momentum) · running + momentum · batch` (unbiased variance; `momentum:
 * null` is a cumulative average). In eval, the running statistics are used.
 *
 * @example
 * const bn = new BatchNorm1d(16, { momentum: 0.1 });
 * const y = bn.forward(x); // x: [N, 16] or [N, 16, L]
 */
export class BatchNorm1d extends BatchNorm {
  protected checkInputDim(x: Tensor): void {
    batchNormDims(x);
  }
}
