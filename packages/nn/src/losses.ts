/** Loss modules for binary classification, robust regression and log-likelihoods. */
import type { Tensor } from '@nabla/core';
import type { Reduction } from './functional.js';
import { Loss } from './loss.js';
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  huberLoss,
  l1Loss,
  nllLoss,
  smoothL1Loss,
} from './losses-functional.js';

/** Options of {@link BCEWithLogitsLoss}. */
export interface BCEWithLogitsLossOptions {
  reduction?: Reduction;
  /** Per-element rescaling weight, broadcast to the input. Owned by the caller. */
  weight?: Tensor | null;
  /** Weight of positive examples per class (broadcast along the last dim). Owned by the caller. */
  posWeight?: Tensor | null;
}

/**
 * Sigmoid + binary cross-entropy in one stable step, PyTorch's `nn.BCEWithLogitsLoss`:
 * finite and exact for logits of any size. Targets are probabilities in [0, 1], same shape as the logits.
 */
export class BCEWithLogitsLoss extends Loss {
  readonly weight: Tensor | null;
  readonly posWeight: Tensor | null;

  constructor(options: BCEWithLogitsLossOptions = {}) {
    super(options);
    this.weight = options.weight ?? null;
    this.posWeight = options.posWeight ?? null;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, {
      reduction: this.reduction,
      weight: this.weight,
      posWeight: this.posWeight,
    });
  }
}

/** Options of {@link BCELoss}. */
export interface BCELossOptions {
  reduction?: Reduction;
  /** Per-element rescaling weight, broadcast to the input. Owned by the caller. */
  weight?: Tensor | null;
}

/**
 * Binary cross-entropy of probabilities, PyTorch's `nn.BCELoss` (logs clamped at -100).
 * Prefer {@link BCEWithLogitsLoss} on logits.
 */
export class BCELoss extends Loss {
  readonly weight: Tensor | null;

  constructor(options: BCELossOptions = {}) {
    super(options);
    this.weight = options.weight ?? null;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { reduction: this.reduction, weight: this.weight });
  }
}

/** Mean absolute error, PyTorch's `nn.L1Loss`. */
export class L1Loss extends Loss {
  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, this.reduction);
  }
}

/** Quadratic below `beta`, linear above, PyTorch's `nn.SmoothL1Loss` (default beta 1). */
export class SmoothL1Loss extends Loss {
  readonly beta: number;

  constructor(options: { reduction?: Reduction; beta?: number } = {}) {
    super(options);
    this.beta = options.beta ?? 1;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/** Quadratic below `delta`, `delta`-sloped linear above, PyTorch's `nn.HuberLoss` (default delta 1). */
export class HuberLoss extends Loss {
  readonly delta: number;

  constructor(options: { reduction?: Reduction; delta?: number } = {}) {
    super(options);
    this.delta = options.delta ?? 1;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/** Negative log-likelihood of log-probabilities against class indices, PyTorch's `nn.NLLLoss`. */
export class NLLLoss extends Loss {
  readonly ignoreIndex: number;
  /** Per-class weight `[C]` or null. Owned by the caller. */
  readonly weight: Tensor | null;

  constructor(options: { reduction?: Reduction; ignoreIndex?: number; weight?: Tensor | null } = {}) {
    super(options);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.weight = options.weight ?? null;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, {
      reduction: this.reduction,
      ignoreIndex: this.ignoreIndex,
      weight: this.weight,
    });
  }
}
