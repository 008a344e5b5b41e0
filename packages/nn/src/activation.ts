/** Activation modules: thin wrappers over the functions in `functional`. */
import type { Tensor } from '@nabla/core';
import { gelu, leakyRelu, logSoftmax, relu, sigmoid, silu, softmax, tanh } from './functional.js';
import { Module } from './module.js';

/** `max(x, 0)` elementwise; the gradient at 0 is 0, as in PyTorch. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** `1 / (1 + e^-x)`; saturates to exactly 0 and 1 at large |x|. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** Hyperbolic tangent. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Options of {@link GELU}. */
export interface GELUOptions {
  /** `'none'` (default): `x·Φ(x)` with erf; `'tanh'`: the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit `x·Φ(x)`, PyTorch's `nn.GELU`. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(options: GELUOptions = {}) {
    super();
    this.approximate = options.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh')
      throw new Error('approximate argument must be either none or tanh.');
  }

  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }

  protected override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** Options of {@link LeakyReLU}. */
export interface LeakyReLUOptions {
  /** Slope for negative inputs (default 0.01). */
  negativeSlope?: number;
}

/** `x > 0 ? x : negativeSlope·x`, PyTorch's `nn.LeakyReLU`. */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;

  constructor(options: LeakyReLUOptions = {}) {
    super();
    this.negativeSlope = options.negativeSlope ?? 0.01;
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  protected override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/** Sigmoid linear unit `x · sigmoid(x)` (swish), PyTorch's `nn.SiLU`. */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** Options of {@link Softmax} and {@link LogSoftmax}. */
export interface SoftmaxOptions {
  /** The dimension the probabilities sum to 1 along. Required (PyTorch's implicit choice is deprecated). */
  dim: number;
}

/** Base of {@link Softmax} and {@link LogSoftmax}: the required `dim` they normalise along. */
abstract class AlongDim extends Module {
  readonly dim: number;

  constructor(name: string, options: SoftmaxOptions | undefined) {
    super();
    if (!options || !Number.isInteger(options.dim))
      throw new Error(`${name}: pass { dim } (PyTorch's implicit dim choice is deprecated)`);
    this.dim = options.dim;
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** `exp(x) / Σ exp(x)` along `dim`, stable for logits of any size. */
export class Softmax extends AlongDim {
  constructor(options: SoftmaxOptions) {
    super('Softmax', options);
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** `log(softmax(x))` along `dim`, computed as `x - logSumExp(x)`. */
export class LogSoftmax extends AlongDim {
  constructor(options: SoftmaxOptions) {
    super('LogSoftmax', options);
  }

  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
}
