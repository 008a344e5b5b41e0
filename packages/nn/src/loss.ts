/** Loss modules. */
import type { Tensor } from '@nabla/core';
import {
  type CrossEntropyOptions,
  crossEntropy,
  DEFAULT_IGNORE_INDEX,
  mseLoss,
  type Reduction,
} from './functional.js';
import { Module } from './module.js';

/**
 * Cross-entropy of logits `[N, C]` against int32 class indices `[N]`, with PyTorch's
 * `reduction` ('mean' by default), `labelSmoothing` (0) and `ignoreIndex` (-100).
 */
export class CrossEntropyLoss extends Module {
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  readonly ignoreIndex: number;

  constructor(options: CrossEntropyOptions = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
    this.labelSmoothing = options.labelSmoothing ?? 0;
    this.ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  }

  forward(logits: Tensor, targets: Tensor): Tensor {
    return crossEntropy(logits, targets, {
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
      ignoreIndex: this.ignoreIndex,
    });
  }
}

/** Mean squared error between input and a target of the same shape. */
export class MSELoss extends Module {
  readonly reduction: Reduction;

  constructor(options: { reduction?: Reduction } = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.reduction);
  }
}
