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
 * Base of the loss modules, like PyTorch's `_Loss`: holds the `reduction` ('mean' unless told)
 * that `forward` applies.
 */
export abstract class Loss extends Module {
  /** How the per-element losses are combined: 'mean', 'sum' or 'none'. */
  readonly reduction: Reduction;

  constructor(options: { reduction?: Reduction } = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
  }
}

/**
 * Cross-entropy of logits `[N, C]` against int32 class indices `[N]`, with PyTorch's
 * `reduction` ('mean' by default), `labelSmoothing` (0) and `ignoreIndex` (-100).
 */
export class CrossEntropyLoss extends Loss {
  readonly labelSmoothing: number;
  readonly ignoreIndex: number;

  constructor(options: CrossEntropyOptions = {}) {
    super(options);
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
export class MSELoss extends Loss {
  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.reduction);
  }
}
