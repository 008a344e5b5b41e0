/**
 * Elementwise kernels (unary, binary, where) from ONE template: the op is an expression
 * substituted into it, and each input is read in one of three generated modes —
 * `linear` (contiguous: `offset + i`), `scalar` (every stride 0: `offset`) or `strided`
 * (coordinates from the shape and per-input strides in the uniform block). Shapes and
 * strides are collapsed first (size-1 dims dropped, mergeable neighbours merged), so most
 * calls hit the linear path and ranks up to {@link MAX_RANK} after collapsing are supported.
 */
import type { BinaryOp, DType, StridedView, UnaryOp } from '@nabla/core';
import { flatEntry, PARAMS_HEADER, storage, WG, wgslType } from './wgsl.js';

/** Highest rank (after collapsing) a strided elementwise view may have. */
export const MAX_RANK = 6;
const INPUT_BASE = 2 + MAX_RANK;
const INPUT_WORDS = 1 + MAX_RANK;

type Mode = 'linear' | 'scalar' | 'strided';

/** An input as the template sees it. */
export interface ElementwiseInput {
  readonly dtype: DType;
  readonly offset: number;
  readonly strides: readonly number[];
}

/** A collapsed iteration space: fewer dims, same elements. */
export interface Collapsed {
  readonly shape: number[];
  readonly strides: number[][];
}

/** Drops size-1 dims and merges neighbours that every input walks contiguously. */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Collapsed {
  const keep = shape.map((s, d) => (s !== 1 ? d : -1)).filter((d) => d >= 0);
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (const d of keep) {
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((st, j) => outStrides[j][last] === st[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strides.forEach((st, j) => {
        outStrides[j][last] = st[d];
      });
    } else {
      outShape.push(shape[d]);
      strides.forEach((st, j) => {
        outStrides[j].push(st[d]);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}

function modeOf(shape: readonly number[], strides: readonly number[]): Mode {
  if (strides.every((s) => s === 0)) return 'scalar';
  if (shape.length === 1 && strides[0] === 1) return 'linear';
  return 'strided';
}

/** Float32 expressions of `x`; the ones int32 computes natively are in {@link UNARY_I32}. */
const UNARY_F32: Record<UnaryOp, string> = {
  copy: 'x',
  neg: '-x',
  abs: 'abs(x)',
  // Keeps NaN and signed zero, like the cpu backend.
  sign: 'select(select(select(x, -1.0, x < 0.0), 1.0, x > 0.0), x, isNan(x))',
  exp: 'exp(x)',
  // Explicit edges: software drivers flush log(0) to about -88 and leave sqrt(-1) unspecified.
  log: 'select(select(log(x), -f32Inf(), x == 0.0), f32Nan(), x < 0.0)',
  sqrt: 'select(sqrt(x), f32Nan(), x < 0.0)',
  rsqrt: 'select(1.0 / sqrt(x), f32Nan(), x < 0.0)',
  relu: 'select(x, 0.0, x < 0.0 && !isNan(x))',
  // Two branches keep exp() from overflowing on either side.
  sigmoid: 'select(1.0 / (1.0 + exp(-x)), exp(x) / (1.0 + exp(x)), x < 0.0)',
  // tanh saturates to ±1 in float32 well before 15; clamping keeps exp-based builtins finite.
  tanh: 'select(tanh(clamp(x, -15.0, 15.0)), x, isNan(x))',
  square: 'x * x',
  reciprocal: '1.0 / x',
};
const UNARY_I32: Partial<Record<UnaryOp, string>> = {
  copy: 'x',
  neg: '-x',
  abs: 'abs(x)',
  sign: 'sign(x)',
  relu: 'max(x, 0i)',
  square: 'x * x',
};

const COMPARE: Partial<Record<BinaryOp, string>> = {
  eq: '==',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
};

const BINARY_F32: Partial<Record<BinaryOp, string>> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'npow(a, b)',
  // NaN propagates, as in PyTorch's maximum/minimum.
  maximum: 'select(select(b, a, a > b), f32Nan(), isNan(a) || isNan(b))',
  minimum: 'select(select(b, a, a < b), f32Nan(), isNan(a) || isNan(b))',
};
const BINARY_I32: Partial<Record<BinaryOp, string>> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  // Truncating division; x / 0 is 0 (WGSL would return x).
  div: 'select(a / b, 0i, b == 0i)',
  pow: 'i32(round(npow(f32(a), f32(b))))',
  maximum: 'max(a, b)',
  minimum: 'min(a, b)',
};

/** WGSL's pow is undefined for negative bases and 0^0; this follows Math.pow. */
const NPOW = `
fn npow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (isNan(a) || isNan(b)) { return f32Nan(); }
  if (a == 0.0) { return select(f32Inf(), 0.0, b > 0.0); }
  if (a < 0.0) {
    if (floor(b) != b) { return f32Nan(); }
    let r = pow(-a, b);
    return select(r, -r, abs(b % 2.0) == 1.0);
  }
  return pow(a, b);
}`;

/** The WGSL expression of a unary op for an input dtype. */
export function unaryExpr(op: UnaryOp, dtype: DType): string {
  // Software drivers' exp/log approximations may turn NaN into ±inf: NaN in, NaN out.
  if (dtype === 'float32') return op === 'copy' ? 'x' : `select(${UNARY_F32[op]}, x, isNan(x))`;
  const native = UNARY_I32[op];
  if (native) return native;
  // Float-only math on int input: compute in float32 (core normally converts first).
  return `let xf = f32(x); ${UNARY_F32[op].replace(/\bx\b/g, 'xf')}`;
}

/** The WGSL expression of a binary op for an input dtype (comparisons give bool-as-int). */
export function binaryExpr(op: BinaryOp, dtype: DType): string {
  const cmp = COMPARE[op];
  if (cmp) {
    if (dtype === 'int32') return `select(0i, 1i, a ${cmp} b)`;
    // Compilers may assume finite math, so NaN operands are decided explicitly: only ne holds.
    const nan = 'isNan(a) || isNan(b)';
    return op === 'ne' ? `select(0i, 1i, a != b || ${nan})` : `select(0i, 1i, a ${cmp} b && !(${nan}))`;
  }
  const table = dtype === 'float32' ? BINARY_F32 : BINARY_I32;
  const expr = table[op];
  if (!expr) throw new Error(`WebGPU backend: binary op '${op}' is not supported for ${dtype}`);
  return expr;
}

const sourceCache = new Map<string, string>();

/**
 * The shader source of one elementwise variant: `names[j]` is bound to input j (read with
 * its mode), and `expr` (which may be prefixed by `let` statements ending in `; `) gives
 * the output value.
 */
export function elementwiseSource(
  names: readonly string[],
  inputs: readonly { dtype: DType; mode: Mode }[],
  outDtype: DType,
  expr: string,
): string {
  const key = `${names.join(',')}|${inputs.map((i) => `${i.dtype}:${i.mode}`).join(',')}|${outDtype}|${expr}`;
  const hit = sourceCache.get(key);
  if (hit) return hit;
  const strided = inputs.some((i) => i.mode === 'strided');
  const decls = inputs.map((inp, j) => storage(j + 1, `in${j}`, wgslType(inp.dtype), false));
  decls.push(storage(inputs.length + 1, 'out', wgslType(outDtype), true));
  const lines: string[] = [];
  if (strided) {
    lines.push('  var rem = gid;');
    inputs.forEach((inp, j) => {
      if (inp.mode === 'strided') lines.push(`  var o${j} = pi(${INPUT_BASE + j * INPUT_WORDS}u);`);
    });
    lines.push('  for (var d = i32(pu(1u)) - 1; d >= 0; d--) {');
    lines.push('    let s = pu(2u + u32(d));');
    lines.push('    let c = i32(rem % s);');
    lines.push('    rem = rem / s;');
    inputs.forEach((inp, j) => {
      if (inp.mode === 'strided')
        lines.push(`    o${j} += c * pi(${INPUT_BASE + j * INPUT_WORDS + 1}u + u32(d));`);
    });
    lines.push('  }');
  }
  inputs.forEach((inp, j) => {
    const base = INPUT_BASE + j * INPUT_WORDS;
    const index =
      inp.mode === 'linear' ? `pu(${base}u) + gid` : inp.mode === 'scalar' ? `pu(${base}u)` : `u32(o${j})`;
    lines.push(`  let ${names[j]} = in${j}[${index}];`);
  });
  const semi = expr.lastIndexOf('; ');
  const stmts = semi >= 0 ? expr.slice(0, semi + 2) : '';
  const value = semi >= 0 ? expr.slice(semi + 2) : expr;
  const outType = wgslType(outDtype);
  const src = `${PARAMS_HEADER}
${decls.join('\n')}
${NPOW}
${flatEntry(WG)}
  if (gid >= pu(0u)) { return; }
${lines.join('\n')}
  ${stmts}
  out[gid] = ${outType}(${value});
}
`;
  sourceCache.set(key, src);
  return src;
}

/** Views collapsed and classified, ready for {@link elementwiseSource} and the parameter block. */
export function prepareViews(
  views: readonly StridedView[],
  shape: readonly number[],
): { shape: number[]; inputs: { dtype: DType; mode: Mode; offset: number; strides: number[] }[] } {
  const c = collapse(
    shape,
    views.map((v) => v.strides),
  );
  if (c.shape.length > MAX_RANK) {
    throw new Error(
      `WebGPU backend: elementwise view of shape [${shape.join(', ')}] has rank ${c.shape.length} after ` +
        `merging contiguous dims; at most ${MAX_RANK} strided dims are supported (call .contiguous() first)`,
    );
  }
  return {
    shape: c.shape,
    inputs: views.map((v, j) => ({
      dtype: v.buffer.dtype,
      mode: modeOf(c.shape, c.strides[j]),
      offset: v.offset,
      strides: c.strides[j],
    })),
  };
}

/** Parameter words of an elementwise dispatch (layout matches the template). */
export function elementwiseParams(
  total: number,
  shape: readonly number[],
  inputs: readonly { offset: number; strides: readonly number[] }[],
): number[] {
  const words = [total, shape.length];
  for (let d = 0; d < MAX_RANK; d++) words.push(shape[d] ?? 1);
  for (const inp of inputs) {
    words.push(inp.offset);
    for (let d = 0; d < MAX_RANK; d++) words.push(inp.strides[d] ?? 0);
  }
  return words;
}
