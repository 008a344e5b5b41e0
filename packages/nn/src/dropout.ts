/** `Dropout`: random zeroing in training, identity in eval. */
import { guardValue, type Tensor } from '@nabla/core';
import { checkDropoutProbability, dropout } from './functional.js';
import { Module } from './module.js';

/**
 * In training, zeroes each element with probability `p` and scales the rest by
 * `1 / (1 - p)`; in eval, passes the input through. Draws from the generator seeded by
 * `manualSeed` (its stream is Nabla's, not PyTorch's).
 */
export class Dropout extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    checkDropoutProbability(p);
    this.p = p;
  }

  forward(x: Tensor): Tensor {
    // A compiled step captures train and eval mode separately (guardValue).
    return dropout(
      x,
      this.p,
      guardValue('Dropout training mode', () => this.training),
    );
  }

  protected override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}
