/** Elementwise ops with NumPy broadcasting, and their gradients. */

import { noGrad } from '../autograd.js';
import type { BinaryOp, DType, UnaryOp } from '../backend.js';
import { tidy } from '../scope.js';
import { broadcastShapes, broadcastStrides, type Shape } from '../shape.js';
import { Tensor, type TensorOrScalar } from '../tensor.js';
import { full } from './creation.js';
import { record, requireFloat, sameBackend } from './graph.js';
import { sumToShape } from './reduce.js';

/** @internal a 0-d tensor holding `value`, on `like`'s backend with its dtype. */
export function scalarLike(value: number, like: Tensor): Tensor {
  return full([], value, { dtype: like.dtype, backend: like.backend });
}

/** Runs a unary kernel; `copy` with a different `dtype` casts. */
export function unaryKernel(op: UnaryOp, x: Tensor, name: string, dtype: DType = x.dtype): Tensor {
  const backend = x.backendFor(name);
  const out = Tensor.empty(x.shape, dtype, backend);
  if (out.size > 0) backend.unary(op, x.viewFor(name), out.storageFor(name).buffer, x.shape);
  return out;
}

const COMPARISONS = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** Runs a binary kernel with broadcasting; the output is int32 for comparisons. */
export function binaryKernel(op: BinaryOp, a: Tensor, b: Tensor, name: string): Tensor {
  const backend = sameBackend(name, a, b);
  if (a.dtype !== b.dtype) {
    throw new Error(`${name}: dtype mismatch: ${a.dtype} and ${b.dtype} (cast one with .float() or .int())`);
  }
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = Tensor.empty(shape, COMPARISONS.has(op) ? 'int32' : a.dtype, backend);
  if (out.size > 0) {
    backend.binary(
      op,
      a.viewFor(name, broadcastStrides(a.shape, a.strides, shape)),
      b.viewFor(name, broadcastStrides(b.shape, b.strides, shape)),
      out.storageFor(name).buffer,
      shape,
    );
  }
  return out;
}

function operands(a: TensorOrScalar, b: TensorOrScalar, name: string): [Tensor, Tensor, () => void] {
  if (typeof a === 'number' && typeof b === 'number')
    throw new Error(`${name}: at least one operand must be a tensor`);
  // Check liveness first, so a disposed operand is reported under this op's name.
  for (const t of [a, b]) if (typeof t !== 'number') t.storageFor(name);
  const ta = typeof a === 'number' ? scalarLike(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? scalarLike(b, ta) : b;
  return [
    ta,
    tb,
    () => {
      if (ta !== a) ta.dispose();
      if (tb !== b) tb.dispose();
    },
  ];
}

type BinaryGrad = (g: Tensor, a: Tensor, b: Tensor, out: Tensor) => [Tensor | null, Tensor | null];

function binary(op: BinaryOp, name: string, floatOnly: boolean, grad: BinaryGrad | null) {
  return (a: TensorOrScalar, b: TensorOrScalar): Tensor => {
    const [ta, tb, release] = operands(a, b, name);
    try {
      if (floatOnly) {
        requireFloat(name, ta);
        requireFloat(name, tb);
      }
      const out = binaryKernel(op, ta, tb, name);
      if (!grad) return out;
      const shapeA = ta.shape;
      const shapeB = tb.shape;
      return record(out, name, [ta, tb], [ta, tb, out], (g, [sa, sb, so], needs) => {
        const [ga, gb] = grad(g, sa, sb, so);
        return [
          needs[0] && ga ? sumToShape(ga, shapeA) : null,
          needs[1] && gb ? sumToShape(gb, shapeB) : null,
        ];
      });
    } finally {
      release();
    }
  };
}

const half = (g: Tensor, mask: Tensor) => g.mul(mask);

/** `a + b` with broadcasting. */
export const add = binary('add', 'add', false, (g) => [g, g]);
/** `a - b` with broadcasting. */
export const sub = binary('sub', 'sub', false, (g) => [g, g.neg()]);
/** `a * b` with broadcasting. */
export const mul = binary('mul', 'mul', false, (g, a, b) => [g.mul(b), g.mul(a)]);
/** `a / b` (float32 only). */
export const div = binary('div', 'div', true, (g, a, b, out) => [g.div(b), g.mul(out).div(b).neg()]);
/** `a ** b` (float32 only). */
export const pow = binary('pow', 'pow', true, (g, a, b, out) => [
  // PyTorch's conventions where the formulas give 0 * inf: no gradient to the base when the
  // exponent is 0, none to the exponent when the base is 0 and the exponent is non-negative.
  where(b.eq(0), 0, g.mul(b).mul(a.pow(b.sub(1)))),
  where(a.eq(0).mul(b.ge(0)), 0, g.mul(out).mul(a.log())),
]);
/** Elementwise maximum; ties split the gradient evenly, as in PyTorch. */
export const maximum = binary('maximum', 'maximum', false, (g, a, b) => {
  const wa = tieWeights(a, b, 'gt');
  return [half(g, wa), g.mul(wa.neg().add(1))];
});
/** Elementwise minimum; ties split the gradient evenly. */
export const minimum = binary('minimum', 'minimum', false, (g, a, b) => {
  const wa = tieWeights(a, b, 'lt');
  return [half(g, wa), g.mul(wa.neg().add(1))];
});

// 1 where a wins, 0.5 on ties, 0 where b wins.
function tieWeights(a: Tensor, b: Tensor, wins: 'gt' | 'lt'): Tensor {
  const win = binaryKernel(wins, a, b, 'maximum').float();
  const tie = binaryKernel('eq', a, b, 'maximum').float();
  return win.add(tie.mul(0.5));
}

/** `a == b` as int32 0/1. */
export const eq = binary('eq', 'eq', false, null);
/** `a != b` as int32 0/1. */
export const ne = binary('ne', 'ne', false, null);
/** `a < b` as int32 0/1. */
export const lt = binary('lt', 'lt', false, null);
/** `a <= b` as int32 0/1. */
export const le = binary('le', 'le', false, null);
/** `a > b` as int32 0/1. */
export const gt = binary('gt', 'gt', false, null);
/** `a >= b` as int32 0/1. */
export const ge = binary('ge', 'ge', false, null);

/** `x` is only meaningful when the op saves its input; otherwise it is the output. */
type UnaryGrad = (g: Tensor, x: Tensor, out: Tensor) => Tensor;

function unary(op: UnaryOp, floatOnly: boolean, grad: UnaryGrad | null, saveInput: boolean) {
  return (x: Tensor): Tensor => {
    if (floatOnly) requireFloat(op, x);
    const out = unaryKernel(op, x, op);
    if (!grad) return out;
    return record(out, op, [x], saveInput ? [x, out] : [out], (g, saved) =>
      saveInput ? [grad(g, saved[0], saved[1])] : [grad(g, saved[0], saved[0])],
    );
  };
}

/** `-x`. */
export const neg = unary('neg', false, (g) => g.neg(), false);
/** `|x|`; gradient `sign(x)` (0 at 0). */
export const abs = unary('abs', false, (g, x) => g.mul(x.sign()), true);
/** -1, 0 or 1. */
export const sign = unary('sign', false, null, false);
/** `e^x`. */
export const exp = unary('exp', true, (g, _x, out) => g.mul(out), false);
/** Natural logarithm. */
export const log = unary('log', true, (g, x) => g.div(x), true);
/** Square root. */
export const sqrt = unary('sqrt', true, (g, _x, out) => g.div(out.mul(2)), false);
/** `1 / sqrt(x)`. */
export const rsqrt = unary('rsqrt', true, (g, _x, out) => g.mul(out.mul(out).mul(out)).mul(-0.5), false);
/** `max(x, 0)`; gradient 0 at 0, as in PyTorch. */
export const relu = unary(
  'relu',
  false,
  (g, _x, out) => g.mul(binaryKernel('gt', out, scalarLike(0, out), 'relu').float()),
  false,
);
/** Logistic sigmoid. */
export const sigmoid = unary('sigmoid', true, (g, _x, out) => g.mul(out).mul(out.neg().add(1)), false);
/** Hyperbolic tangent. */
export const tanh = unary('tanh', true, (g, _x, out) => g.mul(out.mul(out).neg().add(1)), false);
/** `x * x`. */
export const square = unary('square', false, (g, x) => g.mul(x).mul(2), true);
/** `1 / x`. */
export const reciprocal = unary('reciprocal', true, (g, _x, out) => g.mul(out.mul(out)).neg(), false);

/** Converts to another dtype (float → int truncates toward zero). Not differentiable into int32. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return unaryKernel('copy', x, 'cast', dtype);
}

/** `cond ? a : b` elementwise with broadcasting; `cond` is int32 (nonzero is true). */
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  if (cond.dtype !== 'int32')
    throw new Error(`where: condition must be int32 (a comparison result), got ${cond.dtype}`);
  // With two numbers, `a` becomes a float32 scalar on cond's backend (number literals are float32).
  const ownA =
    typeof a === 'number' && typeof b === 'number'
      ? full([], a, { backend: cond.backendFor('where').name })
      : null;
  const [ta, tb, release] = operands(ownA ?? a, b, 'where');
  try {
    const backend = sameBackend('where', cond, ta, tb);
    if (ta.dtype !== tb.dtype) throw new Error(`where: dtype mismatch: ${ta.dtype} and ${tb.dtype}`);
    const shape = broadcastShapes(broadcastShapes(cond.shape, ta.shape, 'where'), tb.shape, 'where');
    const out = Tensor.empty(shape, ta.dtype, backend);
    if (out.size > 0) {
      backend.where(
        cond.viewFor('where', broadcastStrides(cond.shape, cond.strides, shape)),
        ta.viewFor('where', broadcastStrides(ta.shape, ta.strides, shape)),
        tb.viewFor('where', broadcastStrides(tb.shape, tb.strides, shape)),
        out.storageFor('where').buffer,
        shape,
      );
    }
    const shapeA = ta.shape;
    const shapeB = tb.shape;
    return record(out, 'where', [null, ta, tb], [cond], (g, [c], needs) => {
      const zero = scalarLike(0, g);
      return [
        null,
        needs[1] ? sumToShape(where(c, g, zero), shapeA) : null,
        needs[2] ? sumToShape(where(c, zero, g), shapeB) : null,
      ];
    });
  } finally {
    release();
    ownA?.dispose();
  }
}

/** Limits values to `[min, max]` (either bound may be omitted); gradient flows where inside. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? null;
  const hi = max ?? null;
  if (lo === null && hi === null) throw new Error('clamp: at least one of min or max must be given');
  const out = tidy(() =>
    noGrad(() => {
      let y = x.detach();
      if (lo !== null) y = maximum(y, lo);
      if (hi !== null) y = minimum(y, hi);
      return y;
    }),
  );
  return record(out, 'clamp', [x], [x], (g, [sx]) => {
    let inside = g;
    if (lo !== null) inside = inside.mul(binaryKernel('ge', sx, scalarLike(lo, sx), 'clamp').float());
    if (hi !== null) inside = inside.mul(binaryKernel('le', sx, scalarLike(hi, sx), 'clamp').float());
    return [inside];
  });
}
