/**
 * Elementwise ops with NumPy broadcasting, each defined once, as data: a row of a table with
 * its expression (kernels as data, see `expr/`) and the expression of its gradient. Every
 * backend renders the expressions with its own generator, so an op never touches a backend.
 *
 * A forward is one pointwise kernel, and so is a backward, however many operations its
 * formula has (relu's `select(y > 0, g, 0)`, sigmoid's `g*y*(1-y)`): the gradient kernel reads
 * only the tensors its expression uses, and those are all the op saves. Numbers beside
 * tensors (`x.mul(0.37)`, `x.add(1)`) are per-call scalars of the program, so a program's key
 * never depends on them.
 *
 * Adding a unary op: one row in {@link UNARY}, one exported function, one `Tensor` method.
 */
import type { DType } from '../backend.js';
import { E, type Expr } from '../expr/expr.js';
import { type PointwiseProgram, pointwiseProgram } from '../expr/program.js';
import { needsGrad, type Tensor, type TensorOrScalar } from '../tensor.js';
import { record, requireFloat, sameBackend } from './graph.js';
import { pointwise } from './pointwise.js';
import { sumToShape } from './reduce.js';

// ---- the tables -----------------------------------------------------------------------

/** A unary op: its value from `x`, and its gradient from the incoming `g`, the input and the output. */
interface UnaryRule {
  readonly f: (x: Expr) => Expr;
  readonly grad: ((g: Expr, x: Expr, y: Expr) => Expr) | null;
  /** No int32 meaning: int32 input is an error. */
  readonly float?: true;
}

/** A binary op: its value, and the gradients to `a` and `b` (PyTorch's conventions). */
interface BinaryRule {
  readonly f: (a: Expr, b: Expr) => Expr;
  readonly grad: ((g: Expr, a: Expr, b: Expr, y: Expr) => [Expr, Expr]) | null;
  readonly float?: true;
}

// 1 where `a` wins, 0.5 on ties, 0 where `b` wins: PyTorch splits a tie's gradient evenly.
const tieWeight = (a: Expr, b: Expr, wins: 'gt' | 'lt') =>
  E.add(E.cast(E[wins](a, b), 'float32'), E.mul(E.cast(E.eq(a, b), 'float32'), 0.5));

const UNARY = {
  neg: { f: E.neg, grad: (g) => E.neg(g) },
  // Gradient sign(x): 0 at 0.
  abs: { f: E.abs, grad: (g, x) => E.mul(g, E.sign(x)) },
  sign: { f: E.sign, grad: null },
  exp: { f: E.exp, grad: (g, _x, y) => E.mul(g, y), float: true },
  log: { f: E.log, grad: (g, x) => E.div(g, x), float: true },
  // PyTorch's gradient: g / (x + 1).
  log1p: { f: E.log1p, grad: (g, x) => E.div(g, E.add(x, 1)), float: true },
  sqrt: { f: E.sqrt, grad: (g, _x, y) => E.div(g, E.mul(y, 2)), float: true },
  rsqrt: { f: E.rsqrt, grad: (g, _x, y) => E.mul(E.mul(g, E.mul(E.mul(y, y), y)), -0.5), float: true },
  // `x < 0 ? 0 : x` lets NaN through, as PyTorch's relu does; gradient 0 at 0.
  relu: { f: (x) => E.select(E.lt(x, 0), 0, x), grad: (g, _x, y) => E.select(E.gt(y, 0), g, 0) },
  // exp(-x) overflows to inf for very negative x, which still gives the right limit 0.
  sigmoid: {
    f: (x) => E.recip(E.add(E.exp(E.neg(x)), 1)),
    grad: (g, _x, y) => E.mul(E.mul(g, y), E.sub(1, y)),
    float: true,
  },
  tanh: { f: E.tanh, grad: (g, _x, y) => E.mul(g, E.sub(1, E.mul(y, y))), float: true },
  square: { f: (x) => E.mul(x, x), grad: (g, x) => E.mul(E.mul(g, x), 2) },
  reciprocal: { f: E.recip, grad: (g, _x, y) => E.neg(E.mul(g, E.mul(y, y))), float: true },
} satisfies Record<string, UnaryRule>;

const BINARY = {
  add: { f: E.add, grad: (g) => [g, g] },
  sub: { f: E.sub, grad: (g) => [g, E.neg(g)] },
  mul: { f: E.mul, grad: (g, a, b) => [E.mul(g, b), E.mul(g, a)] },
  div: { f: E.div, grad: (g, _a, b, y) => [E.div(g, b), E.neg(E.div(E.mul(g, y), b))], float: true },
  pow: {
    f: E.pow,
    // PyTorch's conventions where the formulas give 0 * inf: no gradient to the base when the
    // exponent is 0, none to the exponent when the base is 0 and the exponent is non-negative.
    grad: (g, a, b, y) => [
      E.select(E.eq(b, 0), 0, E.mul(E.mul(g, b), E.pow(a, E.sub(b, 1)))),
      E.select(E.mul(E.eq(a, 0), E.ge(b, 0)), 0, E.mul(E.mul(g, y), E.log(a))),
    ],
    float: true,
  },
  // NaN from either side propagates; ties split the gradient evenly, as in PyTorch.
  maximum: {
    f: E.max,
    grad: (g, a, b) => [E.mul(g, tieWeight(a, b, 'gt')), E.mul(g, E.sub(1, tieWeight(a, b, 'gt')))],
  },
  minimum: {
    f: E.min,
    grad: (g, a, b) => [E.mul(g, tieWeight(a, b, 'lt')), E.mul(g, E.sub(1, tieWeight(a, b, 'lt')))],
  },
  eq: { f: E.eq, grad: null },
  ne: { f: E.ne, grad: null },
  lt: { f: E.lt, grad: null },
  le: { f: E.le, grad: null },
  gt: { f: E.gt, grad: null },
  ge: { f: E.ge, grad: null },
} satisfies Record<string, BinaryRule>;

/** Names of the unary elementwise ops (each also a `Tensor` method). */
export type UnaryOpName = keyof typeof UNARY;
/** Names of the binary elementwise ops (each also a `Tensor` method). */
export type BinaryOpName = keyof typeof BINARY;

// ---- running a rule -------------------------------------------------------------------

type Operand = Tensor | number;

/** An op as the runner sees it: a value and per-operand gradients over expression leaves. */
interface Rule {
  readonly f: (...xs: Expr[]) => Expr;
  readonly grad: ((g: Expr, y: Expr, xs: Expr[]) => (Expr | null)[]) | null;
}

/**
 * Expression leaves of the operands: tensors become inputs (in order), numbers become scalars
 * of `scalarDtype`. `pattern` names the arrangement (the program cache key).
 */
function leaves(operands: readonly Operand[], scalarDtype: DType) {
  const exprs: Expr[] = [];
  const tensors: Tensor[] = [];
  const scalars: number[] = [];
  let pattern = '';
  for (const o of operands) {
    if (typeof o === 'number') {
      exprs.push(E.scalar(scalars.length, scalarDtype));
      scalars.push(o);
      pattern += scalarDtype === 'int32' ? 'I' : 'F';
    } else {
      exprs.push(E.input(tensors.length, o.dtype));
      tensors.push(o);
      pattern += o.dtype === 'int32' ? 'i' : 'f';
    }
  }
  return { exprs, tensors, scalars, pattern, scalarDtypes: scalars.map(() => scalarDtype) };
}

/** `e` with every input index `k` replaced by `map(k)`. */
function renumber(e: Expr, map: (k: number) => number): Expr {
  switch (e.kind) {
    case 'input':
      return E.input(map(e.index), e.dtype);
    case 'scalar':
    case 'const':
    case 'index':
      return e;
    case 'unary':
    case 'cast':
      return { ...e, x: renumber(e.x, map) };
    case 'binary':
      return { ...e, a: renumber(e.a, map), b: renumber(e.b, map) };
    case 'select':
      return { ...e, cond: renumber(e.cond, map), a: renumber(e.a, map), b: renumber(e.b, map) };
  }
}

function inputsOf(e: Expr, into: Set<number>): void {
  if (e.kind === 'input') into.add(e.index);
  else if (e.kind === 'unary' || e.kind === 'cast') inputsOf(e.x, into);
  else if (e.kind === 'binary') {
    inputsOf(e.a, into);
    inputsOf(e.b, into);
  } else if (e.kind === 'select') {
    inputsOf(e.cond, into);
    inputsOf(e.a, into);
    inputsOf(e.b, into);
  }
}

/**
 * A backward kernel. Its tensors are numbered by slot: 0 is the incoming gradient, 1..n the
 * operands, n+1 the op's output; `reads` lists the slots the program reads, in input order.
 */
interface Backward {
  readonly reads: readonly number[];
  readonly program: PointwiseProgram | null;
  /** Per operand: the program output holding its gradient, -1 when it is `g` itself, null for none. */
  readonly outputs: readonly (number | null)[];
}

/** Programs by rule, then by operand pattern (and, backward, by which operands need gradients). */
const forwards = new WeakMap<Rule, Map<string, PointwiseProgram>>();
const backwards = new WeakMap<Rule, Map<string, Backward>>();

function cacheOf<T>(caches: WeakMap<Rule, Map<string, T>>, rule: Rule): Map<string, T> {
  let m = caches.get(rule);
  if (m === undefined) {
    m = new Map();
    caches.set(rule, m);
  }
  return m;
}

function forwardProgram(name: string, rule: Rule, l: ReturnType<typeof leaves>): PointwiseProgram {
  const forwardCache = cacheOf(forwards, rule);
  let p = forwardCache.get(l.pattern);
  if (p === undefined) {
    p = pointwiseProgram(name, {
      inputs: l.tensors.map((t) => t.dtype),
      scalars: l.scalarDtypes,
      outputs: [rule.f(...l.exprs)],
    });
    forwardCache.set(l.pattern, p);
  }
  return p;
}

function backwardProgram(
  name: string,
  rule: Rule,
  operands: readonly Operand[],
  l: ReturnType<typeof leaves>,
  outDtype: DType,
  needs: readonly boolean[],
): Backward {
  const backwardCache = cacheOf(backwards, rule);
  const key = `${l.pattern}|${needs.map(Number).join('')}`;
  const known = backwardCache.get(key);
  if (known) return known;
  // Leaves by slot: g, then operands (tensors as inputs, numbers as the forward's scalars), then y.
  const n = operands.length;
  let scalar = 0;
  const xs = operands.map((o, i) =>
    typeof o === 'number' ? E.scalar(scalar++, l.scalarDtypes[0]) : E.input(i + 1, o.dtype),
  );
  const grads = rule.grad!(E.input(0), E.input(n + 1, outDtype), xs);
  const wanted = grads.map((e, i) => (needs[i] && typeof operands[i] !== 'number' ? e : null));
  const used = new Set<number>();
  for (const e of wanted) if (e && !(e.kind === 'input' && e.index === 0)) inputsOf(e, used);
  const reads = [...used].sort((a, b) => a - b);
  const slotDtype = (s: number): DType =>
    s === 0 ? 'float32' : s === n + 1 ? outDtype : (operands[s - 1] as Tensor).dtype;
  const exprs: Expr[] = [];
  const outputs = wanted.map((e) => {
    if (e === null) return null;
    if (e.kind === 'input' && e.index === 0) return -1;
    exprs.push(renumber(e, (s) => reads.indexOf(s)));
    return exprs.length - 1;
  });
  const program =
    exprs.length === 0
      ? null
      : pointwiseProgram(`${name}Backward`, {
          inputs: reads.map(slotDtype),
          scalars: l.scalarDtypes,
          outputs: exprs,
        });
  const b = { reads, program, outputs };
  backwardCache.set(key, b);
  return b;
}

/**
 * Runs `rule` on the operands (broadcast together) and records its backward: one kernel each
 * way. Numbers take `scalarDtype`. The caller has checked dtypes.
 */
function apply(name: string, rule: Rule, operands: readonly Operand[], scalarDtype: DType): Tensor {
  const l = leaves(operands, scalarDtype);
  const [out] = pointwise(forwardProgram(name, rule, l), l.tensors, l.scalars, name);
  if (rule.grad === null || !needsGrad(l.tensors)) return out;
  const needs = operands.map((o) => typeof o !== 'number' && o.requiresGrad);
  const bw = backwardProgram(name, rule, operands, l, out.dtype, needs);
  const n = operands.length;
  const bySlot = (s: number) => (s === n + 1 ? out : (operands[s - 1] as Tensor));
  const savedSlots = bw.reads.filter((s) => s !== 0);
  const saved = savedSlots.map(bySlot);
  const shapes = operands.map((o) => (typeof o === 'number' ? [] : o.shape));
  const scalars = l.scalars;
  const inputs = operands.map((o) => (typeof o === 'number' ? null : o));
  return record(out, name, inputs, saved, (g, kept) => {
    const reads = bw.reads.map((s) => (s === 0 ? g : kept[savedSlots.indexOf(s)]));
    const results = bw.program ? pointwise(bw.program, reads, scalars, `${name} backward`) : [];
    return bw.outputs.map((o, i) => (o === null ? null : sumToShape(o === -1 ? g : results[o], shapes[i])));
  });
}

const unaryRules = new Map<string, Rule>();
const binaryRules = new Map<string, Rule>();

function unaryRule(name: UnaryOpName): Rule {
  let r = unaryRules.get(name);
  if (r === undefined) {
    const u: UnaryRule = UNARY[name];
    const grad = u.grad;
    r = { f: (x) => u.f(x), grad: grad && ((g, y, [x]) => [grad(g, x, y)]) };
    unaryRules.set(name, r);
  }
  return r;
}

function binaryRule(name: BinaryOpName): Rule {
  let r = binaryRules.get(name);
  if (r === undefined) {
    const b: BinaryRule = BINARY[name];
    const grad = b.grad;
    r = { f: (x, y) => b.f(x, y), grad: grad && ((g, y, [x0, x1]) => grad(g, x0, x1, y)) };
    binaryRules.set(name, r);
  }
  return r;
}

function unaryOp(name: UnaryOpName): (x: Tensor) => Tensor {
  const float = (UNARY[name] as UnaryRule).float === true;
  return (x) => {
    if (float) requireFloat(name, x);
    else x.storageFor(name);
    return apply(name, unaryRule(name), [x], x.dtype);
  };
}

function binaryOp(name: BinaryOpName): (a: TensorOrScalar, b: TensorOrScalar) => Tensor {
  const float = (BINARY[name] as BinaryRule).float === true;
  return (a, b) => {
    if (typeof a === 'number' && typeof b === 'number')
      throw new Error(`${name}: at least one operand must be a tensor`);
    // Check liveness first, so a disposed operand is reported under this op's name.
    const tensors = [a, b].filter((t): t is Tensor => typeof t !== 'number');
    for (const t of tensors) t.storageFor(name);
    if (float) for (const t of tensors) requireFloat(name, t);
    sameBackend(name, ...tensors);
    const dtype = tensors[0].dtype;
    if (tensors.length === 2 && tensors[1].dtype !== dtype)
      throw new Error(
        `${name}: dtype mismatch: ${dtype} and ${tensors[1].dtype} (cast one with .float() or .int())`,
      );
    return apply(name, binaryRule(name), [a, b], dtype);
  };
}

// ---- the ops --------------------------------------------------------------------------

/** `a + b` with broadcasting. */
export const add = binaryOp('add');
/** `a - b` with broadcasting. */
export const sub = binaryOp('sub');
/** `a * b` with broadcasting. */
export const mul = binaryOp('mul');
/** `a / b` (float32 only). */
export const div = binaryOp('div');
/** `a ** b` (float32 only). */
export const pow = binaryOp('pow');
/** Elementwise maximum; NaN propagates; ties split the gradient evenly, as in PyTorch. */
export const maximum = binaryOp('maximum');
/** Elementwise minimum; NaN propagates; ties split the gradient evenly. */
export const minimum = binaryOp('minimum');
/** `a == b` as int32 0/1. */
export const eq = binaryOp('eq');
/** `a != b` as int32 0/1. */
export const ne = binaryOp('ne');
/** `a < b` as int32 0/1. */
export const lt = binaryOp('lt');
/** `a <= b` as int32 0/1. */
export const le = binaryOp('le');
/** `a > b` as int32 0/1. */
export const gt = binaryOp('gt');
/** `a >= b` as int32 0/1. */
export const ge = binaryOp('ge');

/** `-x`. */
export const neg = unaryOp('neg');
/** `|x|`; gradient `sign(x)` (0 at 0). */
export const abs = unaryOp('abs');
/** -1, 0 or 1 (NaN and signed zero kept). */
export const sign = unaryOp('sign');
/** `e^x`. */
export const exp = unaryOp('exp');
/** Natural logarithm. */
export const log = unaryOp('log');
/** `log(1 + x)`, accurate for small `x`. */
export const log1p = unaryOp('log1p');
/** Square root. */
export const sqrt = unaryOp('sqrt');
/** `1 / sqrt(x)`. */
export const rsqrt = unaryOp('rsqrt');
/** `max(x, 0)`; gradient 0 at 0, as in PyTorch. */
export const relu = unaryOp('relu');
/** Logistic sigmoid. */
export const sigmoid = unaryOp('sigmoid');
/** Hyperbolic tangent. */
export const tanh = unaryOp('tanh');
/** `x * x`. */
export const square = unaryOp('square');
/** `1 / x`. */
export const reciprocal = unaryOp('reciprocal');

const castPrograms = new Map<string, PointwiseProgram>();

/** Converts to another dtype (float → int truncates toward zero). Not differentiable into int32. */
export function cast(x: Tensor, dtype: DType): Tensor {
  x.storageFor('cast');
  if (x.dtype === dtype) return x;
  const key = `${x.dtype}>${dtype}`;
  let p = castPrograms.get(key);
  if (p === undefined) {
    p = pointwiseProgram('cast', { inputs: [x.dtype], outputs: [E.cast(E.input(0, x.dtype), dtype)] });
    castPrograms.set(key, p);
  }
  return pointwise(p, [x], [], 'cast')[0];
}

const WHERE: Rule = {
  f: (c, a, b) => E.select(c, a, b),
  grad: (g, _y, [c]) => [null, E.select(c, g, 0), E.select(c, 0, g)],
};

/** `cond ? a : b` elementwise with broadcasting; `cond` is int32 (nonzero is true). */
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  cond.storageFor('where');
  if (cond.dtype !== 'int32')
    throw new Error(`where: condition must be int32 (a comparison result), got ${cond.dtype}`);
  const branches = [a, b].filter((t): t is Tensor => typeof t !== 'number');
  for (const t of branches) t.storageFor('where');
  sameBackend('where', cond, ...branches);
  // Numbers take the other branch's dtype; two numbers are float32 (number literals are float32).
  const dtype = branches[0]?.dtype ?? 'float32';
  if (branches.length === 2 && branches[1].dtype !== dtype)
    throw new Error(`where: dtype mismatch: ${dtype} and ${branches[1].dtype}`);
  return apply('where', WHERE, [cond, a, b], dtype);
}

const CLAMP: Record<'both' | 'min' | 'max', Rule> = {
  both: {
    f: (x, lo, hi) => E.min(E.max(x, lo), hi),
    grad: (g, _y, [x, lo, hi]) => [E.select(E.mul(E.ge(x, lo), E.le(x, hi)), g, 0)],
  },
  min: { f: (x, lo) => E.max(x, lo), grad: (g, _y, [x, lo]) => [E.select(E.ge(x, lo), g, 0)] },
  max: { f: (x, hi) => E.min(x, hi), grad: (g, _y, [x, hi]) => [E.select(E.le(x, hi), g, 0)] },
};

/** Limits values to `[min, max]` (either bound may be omitted); gradient flows where inside. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? null;
  const hi = max ?? null;
  if (lo === null && hi === null) throw new Error('clamp: at least one of min or max must be given');
  x.storageFor('clamp');
  if (lo === null) return apply('clamp', CLAMP.max, [x, hi as number], x.dtype);
  if (hi === null) return apply('clamp', CLAMP.min, [x, lo], x.dtype);
  return apply('clamp', CLAMP.both, [x, lo, hi], x.dtype);
}
