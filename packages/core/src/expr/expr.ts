/**
 * Kernels as data: a small typed expression tree for pointwise work.
 *
 * An expression computes one output element from the elements of its inputs at the same
 * position (after broadcasting), per-call scalars and constants. Every elementwise op, every
 * activation and its gradient, the optimizer updates and the loss and normalisation epilogues
 * are expressions, defined once by the package that owns the policy; each backend renders an
 * expression once with its own generator (JS source, a wasm program, WGSL) and caches it.
 *
 * Semantics every renderer follows:
 * - Every node has a dtype, and its value is rounded to that dtype: float32 nodes are IEEE
 *   single precision after every operation (a fused chain gives the same bits as the same
 *   ops run one by one, on backends whose primitives are correctly rounded), int32 nodes
 *   wrap modulo 2^32.
 * - Comparisons give int32 0/1; `select` picks `a` where its int32 condition is non-zero.
 * - int32 `div` truncates toward zero and gives 0 for a zero divisor; `cast` to int32
 *   truncates toward zero.
 * - `max`/`min` propagate NaN from either side.
 * @packageDocumentation
 */
import type { DType } from '../backend.js';

/** Unary functions of the expression language, in one list (renderers and tests iterate it). */
export const UNARY_FNS = [
  'neg',
  'abs',
  'sign',
  'exp',
  'log',
  'log1p',
  'sqrt',
  'rsqrt',
  'recip',
  'tanh',
  'erf',
  'floor',
] as const;
export type UnaryFn = (typeof UNARY_FNS)[number];

/** Binary functions of the expression language; comparisons give int32 0/1. */
export const BINARY_FNS = [
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'max',
  'min',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
] as const;
export type BinaryFn = (typeof BINARY_FNS)[number];

/** The comparisons among {@link BinaryFn}: their result is int32 whatever the operands. */
export const COMPARISON_FNS: ReadonlySet<BinaryFn> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** Functions that have no int32 meaning: their operands must be float32. */
export const FLOAT_ONLY_FNS: ReadonlySet<UnaryFn | BinaryFn> = new Set([
  'exp',
  'log',
  'log1p',
  'sqrt',
  'rsqrt',
  'recip',
  'tanh',
  'erf',
  'floor',
  'pow',
]);

/** One node of an expression. Build them with {@link E}, not by hand. */
export type Expr =
  /** Element of input `index` (a strided view passed to the kernel). */
  | { readonly kind: 'input'; readonly index: number; readonly dtype: DType }
  /** A constant baked into the rendered kernel. */
  | { readonly kind: 'const'; readonly value: number; readonly dtype: DType }
  /** Per-call value `index` (a learning rate, a step count): changes without re-rendering. */
  | { readonly kind: 'scalar'; readonly index: number; readonly dtype: DType }
  /** The element's coordinate along dimension `axis` of the call's iteration (output) shape. */
  | { readonly kind: 'index'; readonly axis: number; readonly dtype: 'int32' }
  | { readonly kind: 'unary'; readonly fn: UnaryFn; readonly x: Expr; readonly dtype: DType }
  | {
      readonly kind: 'binary';
      readonly fn: BinaryFn;
      readonly a: Expr;
      readonly b: Expr;
      readonly dtype: DType;
    }
  /** `cond != 0 ? a : b`; `cond` is int32. */
  | {
      readonly kind: 'select';
      readonly cond: Expr;
      readonly a: Expr;
      readonly b: Expr;
      readonly dtype: DType;
    }
  | { readonly kind: 'cast'; readonly x: Expr; readonly dtype: DType };

/** A number where an expression is expected becomes a float32 constant. */
export type ExprLike = Expr | number;

const lift = (e: ExprLike): Expr =>
  typeof e === 'number' ? { kind: 'const', value: e, dtype: 'float32' } : e;

function unaryNode(fn: UnaryFn, x: ExprLike): Expr {
  const e = lift(x);
  if (FLOAT_ONLY_FNS.has(fn) && e.dtype !== 'float32')
    throw new TypeError(`expr ${fn}: needs a float32 operand, got ${e.dtype}`);
  return { kind: 'unary', fn, x: e, dtype: e.dtype };
}

function binaryNode(fn: BinaryFn, a: ExprLike, b: ExprLike): Expr {
  // A number beside an int32 operand is an int32 constant (`i + 1`), as in TypeScript code.
  const ea =
    typeof a === 'number' && typeof b !== 'number'
      ? { kind: 'const' as const, value: a, dtype: b.dtype }
      : lift(a);
  const eb = typeof b === 'number' ? { kind: 'const' as const, value: b, dtype: ea.dtype } : b;
  if (ea.dtype !== eb.dtype)
    throw new TypeError(`expr ${fn}: dtype mismatch, ${ea.dtype} and ${eb.dtype} (insert a cast)`);
  if (FLOAT_ONLY_FNS.has(fn) && ea.dtype !== 'float32')
    throw new TypeError(`expr ${fn}: needs float32 operands, got ${ea.dtype}`);
  return { kind: 'binary', fn, a: ea, b: eb, dtype: COMPARISON_FNS.has(fn) ? 'int32' : ea.dtype };
}

/** Builders for expression nodes. Numbers become float32 constants (int32 beside an int32 operand). */
export const E = {
  input: (index: number, dtype: DType = 'float32'): Expr => ({ kind: 'input', index, dtype }),
  scalar: (index: number, dtype: DType = 'float32'): Expr => ({ kind: 'scalar', index, dtype }),
  const: (value: number, dtype: DType = 'float32'): Expr => ({ kind: 'const', value, dtype }),
  /**
   * The int32 coordinate, along dimension `axis` of the call's iteration shape (the shape of
   * the outputs, which the inputs broadcast to), of the element being computed: over `[N, C]`,
   * `E.index(1)` is the column `c`. It stands in for an `arange` input broadcast along the
   * other dimensions, without the tensor. A call over a shape of rank `<= axis` is an error.
   */
  index: (axis: number): Expr => {
    if (!Number.isInteger(axis) || axis < 0 || axis > 2147483647)
      throw new RangeError(`expr index: axis must be a non-negative integer, got ${axis}`);
    return { kind: 'index', axis, dtype: 'int32' };
  },
  cast: (x: ExprLike, dtype: DType): Expr => {
    const e = lift(x);
    return e.dtype === dtype ? e : { kind: 'cast', x: e, dtype };
  },
  select: (cond: Expr, a: ExprLike, b: ExprLike): Expr => {
    if (cond.dtype !== 'int32')
      throw new TypeError(`expr select: condition must be int32, got ${cond.dtype}`);
    const ea = typeof a === 'number' && typeof b !== 'number' ? E.const(a, b.dtype) : lift(a);
    const eb = typeof b === 'number' ? E.const(b, ea.dtype) : b;
    if (ea.dtype !== eb.dtype)
      throw new TypeError(`expr select: dtype mismatch, ${ea.dtype} and ${eb.dtype}`);
    return { kind: 'select', cond, a: ea, b: eb, dtype: ea.dtype };
  },
  neg: (x: ExprLike) => unaryNode('neg', x),
  abs: (x: ExprLike) => unaryNode('abs', x),
  sign: (x: ExprLike) => unaryNode('sign', x),
  exp: (x: ExprLike) => unaryNode('exp', x),
  log: (x: ExprLike) => unaryNode('log', x),
  log1p: (x: ExprLike) => unaryNode('log1p', x),
  sqrt: (x: ExprLike) => unaryNode('sqrt', x),
  rsqrt: (x: ExprLike) => unaryNode('rsqrt', x),
  recip: (x: ExprLike) => unaryNode('recip', x),
  tanh: (x: ExprLike) => unaryNode('tanh', x),
  erf: (x: ExprLike) => unaryNode('erf', x),
  floor: (x: ExprLike) => unaryNode('floor', x),
  add: (a: ExprLike, b: ExprLike) => binaryNode('add', a, b),
  sub: (a: ExprLike, b: ExprLike) => binaryNode('sub', a, b),
  mul: (a: ExprLike, b: ExprLike) => binaryNode('mul', a, b),
  div: (a: ExprLike, b: ExprLike) => binaryNode('div', a, b),
  pow: (a: ExprLike, b: ExprLike) => binaryNode('pow', a, b),
  max: (a: ExprLike, b: ExprLike) => binaryNode('max', a, b),
  min: (a: ExprLike, b: ExprLike) => binaryNode('min', a, b),
  eq: (a: ExprLike, b: ExprLike) => binaryNode('eq', a, b),
  ne: (a: ExprLike, b: ExprLike) => binaryNode('ne', a, b),
  lt: (a: ExprLike, b: ExprLike) => binaryNode('lt', a, b),
  le: (a: ExprLike, b: ExprLike) => binaryNode('le', a, b),
  gt: (a: ExprLike, b: ExprLike) => binaryNode('gt', a, b),
  ge: (a: ExprLike, b: ExprLike) => binaryNode('ge', a, b),
} as const;

/**
 * A canonical text form of an expression: equal texts mean equal kernels, so backends cache
 * rendered code by it. Constants print with full precision (`Object.is` distinguishes -0).
 */
export function exprKey(e: Expr): string {
  switch (e.kind) {
    case 'input':
      return `x${e.index}${e.dtype === 'int32' ? 'i' : ''}`;
    case 'scalar':
      return `s${e.index}${e.dtype === 'int32' ? 'i' : ''}`;
    case 'index':
      return `idx${e.axis}`;
    case 'const':
      return `${Object.is(e.value, -0) ? '-0' : String(e.value)}${e.dtype === 'int32' ? 'i' : 'f'}`;
    case 'unary':
      return `${e.fn}(${exprKey(e.x)})`;
    case 'binary':
      return `${e.fn}(${exprKey(e.a)},${exprKey(e.b)})`;
    case 'select':
      return `select(${exprKey(e.cond)},${exprKey(e.a)},${exprKey(e.b)})`;
    case 'cast':
      return `${e.dtype}(${exprKey(e.x)})`;
  }
}

/** Calls `visit` on every node of `e`, children before parents. */
export function walkExpr(e: Expr, visit: (node: Expr) => void): void {
  switch (e.kind) {
    case 'unary':
    case 'cast':
      walkExpr(e.x, visit);
      break;
    case 'binary':
      walkExpr(e.a, visit);
      walkExpr(e.b, visit);
      break;
    case 'select':
      walkExpr(e.cond, visit);
      walkExpr(e.a, visit);
      walkExpr(e.b, visit);
      break;
    default:
      break;
  }
  visit(e);
}
