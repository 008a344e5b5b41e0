/** Builds the optimizer a config names. */
import type { Tensor } from '@nabla/core';
import { Adam, AdamW, type Optimizer, SGD } from '@nabla/optim';
import type { OptimizerConfig } from './options.js';

/** `sgd` (with momentum), `adam` or `adamw` over `params`. */
export function makeOptimizer(params: Tensor[], cfg: OptimizerConfig): Optimizer<any> {
  switch (cfg.name) {
    case 'sgd':
      return new SGD(params, { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay });
    case 'adam':
      return new Adam(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
    case 'adamw':
      return new AdamW(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
    default:
      throw new Error(`unknown optimizer '${(cfg as { name: string }).name}'. Allowed: sgd, adam, adamw`);
  }
}
