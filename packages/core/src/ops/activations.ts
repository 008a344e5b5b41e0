/**
 * Activations as pointwise programs (kernels as data): each is one forward program and one
 * gradient program `(grad, x) -> dx`, so a backend that renders programs runs them without a
 * kernel of its own. PyTorch's formulas; per-call values (LeakyReLU's slope) are scalars.
 *
 * The gradient programs are not themselves differentiable (no double backward).
 */
import { E, type Expr } from '../expr/expr.js';
import { type PointwiseProgram, pointwiseProgram } from '../expr/program.js';
import type { Tensor } from '../tensor.js';
import { record, requireFloat } from './graph.js';
import { pointwise } from './pointwise.js';

const x = E.input(0);
/** In gradient programs input 0 is the incoming gradient and input 1 the saved x. */
const g = E.input(0);
const gx = E.input(1);

/** `1 / (1 + e^-v)`: exactly 0 and 1 at large |v| (e^100 is +inf in float32, 1/inf = 0). */
const sigmoidOf = (v: Expr): Expr => E.recip(E.add(1, E.exp(E.neg(v))));

const SQRT1_2 = Math.SQRT1_2;
/** 1/sqrt(2π), the standard normal density's factor. */
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** sqrt(2/π) and the cubic coefficient of GELU's tanh approximation. */
const K_BETA = Math.sqrt(2 / Math.PI);
const K_KAPPA = 0.044715;

/** Forward and gradient of one activation. */
interface Activation {
  forward: PointwiseProgram;
  grad: PointwiseProgram;
}

function define(name: string, forward: (v: Expr) => Expr, grad: (g: Expr, v: Expr) => Expr, scalars = 0) {
  const scalarTypes = Array<'float32'>(scalars).fill('float32');
  return {
    forward: pointwiseProgram(name, { inputs: ['float32'], scalars: scalarTypes, outputs: [forward(x)] }),
    grad: pointwiseProgram(`${name}Grad`, {
      inputs: ['float32', 'float32'],
      scalars: scalarTypes,
      outputs: [grad(g, gx)],
    }),
  } satisfies Activation;
}

/** GELU with the exact normal CDF: `x · Φ(x) = 0.5·x·(1 + erf(x/√2))`. */
const GELU_ERF = define(
  'gelu',
  (v) => E.mul(E.mul(0.5, v), E.add(1, E.erf(E.mul(v, SQRT1_2)))),
  (gr, v) => {
    const cdf = E.mul(0.5, E.add(1, E.erf(E.mul(v, SQRT1_2))));
    const pdf = E.mul(E.exp(E.mul(-0.5, E.mul(v, v))), INV_SQRT_2PI);
    return E.mul(gr, E.add(cdf, E.mul(v, pdf)));
  },
);

/** GELU's tanh approximation: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`. */
const GELU_TANH = define(
  'geluTanh',
  (v) => {
    const inner = E.mul(K_BETA, E.add(v, E.mul(K_KAPPA, E.mul(E.mul(v, v), v))));
    return E.mul(E.mul(0.5, v), E.add(1, E.tanh(inner)));
  },
  (gr, v) => {
    const sq = E.mul(v, v);
    const inner = E.mul(K_BETA, E.add(v, E.mul(K_KAPPA, E.mul(sq, v))));
    const t = E.tanh(inner);
    const left = E.mul(0.5, v);
    const leftDerivative = E.mul(0.5, E.add(1, t));
    const innerDerivative = E.mul(K_BETA, E.add(1, E.mul(3 * K_KAPPA, sq)));
    const rightDerivative = E.mul(E.mul(left, E.sub(1, E.mul(t, t))), innerDerivative);
    return E.mul(gr, E.add(leftDerivative, rightDerivative));
  },
);

/** SiLU (swish): `x · sigmoid(x)`; gradient `s · (1 + x·(1 - s))`. */
const SILU = define(
  'silu',
  (v) => E.mul(v, sigmoidOf(v)),
  (gr, v) => {
    const s = sigmoidOf(v);
    return E.mul(gr, E.mul(s, E.add(1, E.mul(v, E.sub(1, s)))));
  },
);

/** LeakyReLU: `x > 0 ? x : slope·x` (scalar 0 is the slope); PyTorch's gradient at 0 is the slope. */
const LEAKY_RELU = define(
  'leakyRelu',
  (v) => E.select(E.gt(v, 0), v, E.mul(v, E.scalar(0))),
  (gr, v) => E.select(E.gt(v, 0), gr, E.mul(gr, E.scalar(0))),
  1,
);

function apply(op: string, act: Activation, input: Tensor, scalars: number[] = []): Tensor {
  requireFloat(op, input);
  const [out] = pointwise(act.forward, [input], scalars, op);
  return record(out, op, [input], [input], (grad, [saved]) => [
    pointwise(act.grad, [grad, saved], scalars, `${op} backward`)[0],
  ]);
}

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** `'none'` (default): the exact erf form; `'tanh'`: the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit, PyTorch's `F.gelu` (`approximate: 'none' | 'tanh'`). */
export function gelu(input: Tensor, options: GeluOptions = {}): Tensor {
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh')
    throw new Error(`approximate argument must be either none or tanh.`);
  return approximate === 'tanh' ? apply('gelu', GELU_TANH, input) : apply('gelu', GELU_ERF, input);
}

/** Sigmoid linear unit `x · sigmoid(x)`, PyTorch's `F.silu`; exact saturation at large |x|. */
export function silu(input: Tensor): Tensor {
  return apply('silu', SILU, input);
}

/** `x > 0 ? x : negativeSlope·x`, PyTorch's `F.leaky_relu` (default slope 0.01). */
export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  if (!Number.isFinite(negativeSlope))
    throw new Error(`leakyRelu: negativeSlope must be a finite number, got ${negativeSlope}`);
  return apply('leakyRelu', LEAKY_RELU, input, [negativeSlope]);
}
