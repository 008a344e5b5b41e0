/**
 * In-place initialisers, as in `torch.nn.init`: each overwrites a tensor's values (under
 * `noGrad`, keeping the tensor object) from the global generator seeded by `manualSeed`.
 *
 * @module
 */
import { full, noGrad, rand, randn, type Tensor, tidy } from '@nabla/core';

/** Non-linearities understood by {@link calculateGain}. */
export type Nonlinearity = 'linear' | 'identity' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';

/** Fan modes of the Kaiming initialisers. */
export type FanMode = 'fan_in' | 'fan_out';

function fill(target: Tensor, make: () => Tensor): Tensor {
  noGrad(() => tidy(() => void target.assign(make())));
  return target;
}

/** The recommended gain for a non-linearity (PyTorch's table; `param` is leaky ReLU's slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'identity':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    default:
      throw new Error(`calculateGain: unsupported nonlinearity '${nonlinearity as string}'`);
  }
}

/** `[fanIn, fanOut]` of a weight `[out, in, ...kernel]` (PyTorch's rule; needs at least 2 dims). */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.rank < 2) {
    throw new Error(
      `Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape [${t.shape.join(', ')}])`,
    );
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

/** Fills `t` with values drawn uniformly from `[a, b)`. */
export function uniform(t: Tensor, a = 0, b = 1): Tensor {
  return fill(t, () =>
    rand(t.shape, { backend: t.backend })
      .mul(b - a)
      .add(a),
  );
}

/** Fills `t` with values drawn from `N(mean, std²)`. */
export function normal(t: Tensor, mean = 0, std = 1): Tensor {
  return fill(t, () => randn(t.shape, { backend: t.backend }).mul(std).add(mean));
}

/** Fills `t` with a constant. */
export function constant(t: Tensor, value: number): Tensor {
  return fill(t, () => full(t.shape, value, { dtype: t.dtype, backend: t.backend }));
}

/** Fills `t` with zeros. */
export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

/** Fills `t` with ones. */
export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

/** Options of the Kaiming initialisers. */
export interface KaimingOptions {
  /** Negative slope of the following leaky ReLU (0 for ReLU). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, options: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const fan = (options.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He initialisation, uniform: bound `gain * sqrt(3 / fan)`. `Linear` uses `{ a: sqrt(5) }`. */
export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform(t, -bound, bound);
}

/** He initialisation, normal: std `gain / sqrt(fan)`. */
export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, options));
}

/** Glorot initialisation, uniform: bound `gain * sqrt(6 / (fanIn + fanOut))`. */
export function xavierUniform(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -bound, bound);
}

/** Glorot initialisation, normal: std `gain * sqrt(2 / (fanIn + fanOut))`. */
export function xavierNormal(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}
