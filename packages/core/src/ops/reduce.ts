/** Axis reductions (sum, mean, max, min, argmax, argmin, var, std) and their gradients. */
import type { ReduceOp } from '../backend.js';
import { E } from '../expr/expr.js';
import { pointwiseProgram } from '../expr/program.js';
import { tidy } from '../scope.js';
import { formatShape, normalizeAxes, normalizeAxis, type Shape, sameShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { record, requireFloat } from './graph.js';
import { pointwiseInto } from './pointwise.js';
import { dense, expand, permute, reshape } from './views.js';

/** `x · s`: a mean scales the sum it owns in place (no second buffer). */
const SCALE = pointwiseProgram('scale', {
  inputs: ['float32'],
  scalars: ['float32'],
  outputs: [E.mul(E.input(0), E.scalar(0))],
});

/** Shape after reducing `axes` (kept as 1 with `keepDim`). */
function reducedShape(shape: Shape, axes: readonly number[], keepDim: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (!axes.includes(i)) out.push(shape[i]);
    else if (keepDim) out.push(1);
  }
  return out;
}

/** Runs the reduce kernel over `axes` (sorted, unique); no autograd. */
export function reduceKernel(
  op: ReduceOp,
  x: Tensor,
  axes: readonly number[],
  keepDim: boolean,
  name: string,
): Tensor {
  const backend = x.backendFor(name);
  const shape = x.shape;
  const outShape = reducedShape(shape, axes, keepDim);
  let size = 1;
  for (let i = 0; i < axes.length; i++) size *= shape[axes[i]];
  if (size === 0 && op !== 'sum') {
    throw new Error(`${name}: cannot reduce over a zero-size dimension (input shape ${formatShape(shape)})`);
  }
  const out = Tensor.empty(outShape, op === 'argmax' || op === 'argmin' ? 'int32' : x.dtype, backend);
  if (out.size === 0) return out;
  const block = axes.length > 0 && axes[axes.length - 1] - axes[0] === axes.length - 1;
  let input: Tensor;
  let outer: number;
  let inner: number;
  if (block) {
    input = dense(x);
    outer = sizeOf(shape.slice(0, axes[0]));
    inner = sizeOf(shape.slice(axes[axes.length - 1] + 1));
  } else {
    // Move reduced axes last, then the reduction is over a contiguous tail.
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    input = dense(permute(x, [...kept, ...axes]));
    outer = sizeOf(kept.map((i) => shape[i]));
    inner = 1;
  }
  try {
    backend.kernels.reduce({
      op,
      x: input.storageFor(name).buffer,
      out: out.storageFor(name).buffer,
      outer,
      size,
      inner,
    });
  } finally {
    if (input !== x) input.dispose();
  }
  return out;
}

/** Sums `g` down to `shape` (the adjoint of broadcasting). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? reduceKernel('sum', g, axes, true, 'sumToShape') : g;
  return reshape(summed, shape);
}

/** Expands a reduced gradient back over the reduced axes. */
function unreduce(g: Tensor, inputShape: Shape, axes: readonly number[], keepDim: boolean): Tensor {
  const kept = keepDim ? g : reshape(g, reducedShape(inputShape, axes, true));
  return expand(kept, inputShape);
}

/** Sum over `axis` (all axes by default). */
export function sum(x: Tensor, axis?: number | readonly number[], keepDim = false): Tensor {
  const axes = normalizeAxes(axis, x.rank, 'sum');
  const out = reduceKernel('sum', x, axes, keepDim, 'sum');
  const shape = x.shape;
  return record(out, 'sum', [x], [], (g) => [unreduce(g, shape, axes, keepDim)]);
}

/** Mean over `axis` (all axes by default); float32 only. */
export function mean(x: Tensor, axis?: number | readonly number[], keepDim = false): Tensor {
  requireFloat('mean', x);
  const axes = normalizeAxes(axis, x.rank, 'mean');
  const count = sizeOf(axes.map((a) => x.shape[a]));
  const out = reduceKernel('sum', x, axes, keepDim, 'mean');
  pointwiseInto(SCALE, [out], [1 / count], [out], 'mean');
  const shape = x.shape;
  return record(out, 'mean', [x], [], (g) => [unreduce(g.mul(1 / count), shape, axes, keepDim)]);
}

function extremum(op: 'max' | 'min') {
  return (x: Tensor, axis?: number | readonly number[], keepDim = false): Tensor => {
    const axes = normalizeAxes(axis, x.rank, op);
    const out = reduceKernel(op, x, axes, keepDim, op);
    const shape = x.shape;
    // Like PyTorch's amax/amin: the gradient is shared evenly between tied extrema.
    return record(out, op, [x], [x, out], (g, [sx, so]) => {
      const winner = unreduce(so, shape, axes, keepDim);
      const mask = sx.eq(winner).float();
      const count = reduceKernel('sum', mask, axes, true, op);
      return [unreduce(g, shape, axes, keepDim).mul(mask).div(count)];
    });
  };
}

/** Maximum over `axis` (all axes by default). */
export const max = extremum('max');
/** Minimum over `axis` (all axes by default). */
export const min = extremum('min');

function argExtremum(op: 'argmax' | 'argmin') {
  return (x: Tensor, axis?: number, keepDim = false): Tensor => {
    if (axis === undefined) {
      const flat = reshape(x, [x.size]);
      const out = reduceKernel(op, flat, [0], false, op);
      if (flat !== x) flat.dispose();
      return out;
    }
    const d = normalizeAxis(axis, x.rank, op);
    return reduceKernel(op, x, x.rank === 0 ? [] : [d], keepDim, op);
  };
}

/** Index of the maximum along `axis` (of the flattened tensor when omitted), int32; first on ties. */
export const argmax = argExtremum('argmax');
/** Index of the minimum along `axis`, int32; first on ties. */
export const argmin = argExtremum('argmin');

/** Options of {@link variance} and {@link std}. */
export interface VarianceOptions {
  /** Subtracted from the count in the divisor: 1 (default) is unbiased, 0 is biased. */
  correction?: number;
  keepDim?: boolean;
}

/** Variance over `axis` with Bessel's `correction` (default 1, as in PyTorch). */
export function variance(
  x: Tensor,
  axis?: number | readonly number[],
  options: VarianceOptions = {},
): Tensor {
  requireFloat('var', x);
  const axes = normalizeAxes(axis, x.rank, 'var');
  const correction = options.correction ?? 1;
  const count = sizeOf(axes.map((a) => x.shape[a]));
  return tidy(() => {
    const centered = x.sub(mean(x, axes, true));
    return sum(centered.square(), axes, options.keepDim ?? false).div(Math.max(0, count - correction));
  });
}

/** Standard deviation: `sqrt(var)`. */
export function std(x: Tensor, axis?: number | readonly number[], options: VarianceOptions = {}): Tensor {
  return variance(x, axis, options).sqrt();
}
