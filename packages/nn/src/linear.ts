/** `Linear`: an affine map `y = x · Wᵀ + b` over the last dimension. */
import { type Tensor, zeros } from '@nabla/core';
import { linear } from './functional.js';
import { kaimingUniform, uniform } from './init.js';
import { Module } from './module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * Applies `y = x · weightᵀ + bias` to `x: (*, inFeatures)`, giving `(*, outFeatures)`.
 * `weight` is `[outFeatures, inFeatures]`; both it and `bias` start uniform in
 * `±1/sqrt(inFeatures)`, PyTorch's default.
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    for (const [name, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 0)
        throw new Error(`Linear: ${name} must be a non-negative integer, got ${v}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.registerParameter('weight', zeros([outFeatures, inFeatures], { requiresGrad: true }));
    this.registerParameter(
      'bias',
      options.bias === false ? null : zeros([outFeatures], { requiresGrad: true }),
    );
    this.resetParameters();
  }

  /** The `[outFeatures, inFeatures]` weight. */
  get weight(): Tensor {
    return this.getParameter('weight')!;
  }

  /** The `[outFeatures]` bias, or null when built with `{ bias: false }`. */
  get bias(): Tensor | null {
    return this.getParameter('bias');
  }

  /** Re-draws weight and bias with PyTorch's default (kaiming-uniform with a = √5, i.e. ±1/√in). */
  resetParameters(): void {
    kaimingUniform(this.weight, { a: Math.sqrt(5) });
    const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
    if (this.bias) uniform(this.bias, -bound, bound);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}
