/**
 * Elementwise kernels (unary, binary, where), generated from one template.
 *
 * Each op is a scalar arrow function in a table. For every op and combination of array
 * types the template emits two loops with the function's expression inlined: a contiguous
 * loop and a strided loop (innermost dimension walked with one stride per input, outer
 * dimensions with an odometer). Generating the source, instead of passing the op as a
 * callback to a shared driver, gives every variant its own function literal, so V8's type
 * feedback stays monomorphic and the expression is inlined into the loop. Without
 * `new Function` (see `codegen.ts`) the same tables run through a generic interpreter.
 */
import type { BinaryOp, TypedArray, UnaryOp } from '@nabla/core';
import { arrowSource, compile, kernelCache, noteKernel } from './codegen.js';

/** A strided read of a typed array; strides are in elements, one per output dimension. */
export interface ArrayView {
  readonly data: TypedArray;
  readonly offset: number;
  readonly strides: readonly number[];
}

type Scalar = (...v: number[]) => number;

/** A scalar op; `int` replaces `float` when the output is int32. */
interface OpFns {
  readonly float: Scalar;
  readonly int?: Scalar;
}

const op = (float: Scalar, int?: Scalar): OpFns => ({ float, int });

/** Unary ops. Stores into an Int32Array wrap mod 2^32 and truncate toward zero. */
const UNARY: Record<UnaryOp, OpFns> = {
  copy: op((a) => a),
  neg: op((a) => -a),
  abs: op((a) => Math.abs(a)),
  // Keeps NaN and signed zero, like sign() in NumPy and PyTorch.
  sign: op((a) => (a > 0 ? 1 : a < 0 ? -1 : a)),
  exp: op((a) => Math.exp(a)),
  log: op((a) => Math.log(a)),
  sqrt: op((a) => Math.sqrt(a)),
  rsqrt: op((a) => 1 / Math.sqrt(a)),
  // `a < 0 ? 0 : a` lets NaN through, as PyTorch's relu does.
  relu: op((a) => (a < 0 ? 0 : a)),
  // exp(-a) overflows to Infinity for very negative a, which still gives the right limit 0.
  sigmoid: op((a) => 1 / (1 + Math.exp(-a))),
  tanh: op((a) => Math.tanh(a)),
  // Math.imul keeps int32 products exact (a double product of two int32s can exceed 2^53).
  square: op(
    (a) => a * a,
    (a) => Math.imul(a, a),
  ),
  reciprocal: op((a) => 1 / a),
};

/** Binary ops. maximum/minimum propagate NaN from either side; comparisons give 0/1. */
const BINARY: Record<BinaryOp, OpFns> = {
  add: op((a, b) => a + b),
  sub: op((a, b) => a - b),
  mul: op(
    (a, b) => a * b,
    (a, b) => Math.imul(a, b),
  ),
  // int32 division truncates toward zero (the store into Int32Array does it); x/0 gives 0.
  div: op((a, b) => a / b),
  pow: op((a, b) => a ** b),
  maximum: op((a, b) => (a > b || Number.isNaN(a) ? a : b)),
  minimum: op((a, b) => (a < b || Number.isNaN(a) ? a : b)),
  eq: op((a, b) => (a === b ? 1 : 0)),
  ne: op((a, b) => (a !== b ? 1 : 0)),
  lt: op((a, b) => (a < b ? 1 : 0)),
  le: op((a, b) => (a <= b ? 1 : 0)),
  gt: op((a, b) => (a > b ? 1 : 0)),
  ge: op((a, b) => (a >= b ? 1 : 0)),
};

/** `c` is the int32 condition; any non-zero picks `a`. */
const WHERE: OpFns = op((c, a, b) => (c !== 0 ? a : b));

/** `out[i] = f(xs[k][ps[k] + i] ...)` for `i < n`. */
type ContigFn = (out: TypedArray, n: number, xs: readonly TypedArray[], ps: readonly number[]) => void;
/** The same over a collapsed `shape`, input k read at `ps[k] + Σ idx[d]·ss[k][d]`. */
type StridedFn = (
  out: TypedArray,
  shape: readonly number[],
  xs: readonly TypedArray[],
  ps: readonly number[],
  ss: readonly (readonly number[])[],
) => void;

interface Kernel {
  readonly contiguous: ContigFn;
  readonly strided: StridedFn;
  /** Shapes whose last two dims some input reads transposed (large inner stride): 32×32 tiles. */
  readonly tiled: StridedFn;
}

/** Tile edge for transposed reads: 32 rows of one tile stay in L1 while it is read across. */
const TILE = 32;

/**
 * Emits the two loops for one scalar function, its expression inlined, or returns null when
 * code generation is unavailable. Generated locals start with `$$`, so they cannot collide
 * with the function's own parameter names.
 */
function generate(fn: Scalar, name: string): Kernel | null {
  const src = arrowSource(fn);
  if (src === null) return null;
  const { params, body: expr } = src;
  const each = (f: (k: number) => string) => params.map((_, k) => f(k)).join(' ');
  const unpack = `${each((k) => `const $$x${k} = $$xs[${k}];`)} ${each((k) => `let $$p${k} = $$ps[${k}];`)}`;
  const contiguous = compile<ContigFn>(
    ['$$out', '$$n', '$$xs', '$$ps'],
    `${unpack}
    for (let $$i = 0; $$i < $$n; $$i++) {
      ${each((k) => `const ${params[k]} = $$x${k}[$$p${k} + $$i];`)}
      $$out[$$i] = ${expr};
    }`,
    `${name}-contiguous`,
  );
  const strided = compile<StridedFn>(
    ['$$out', '$$shape', '$$xs', '$$ps', '$$ss'],
    `${unpack}
    ${each((k) => `const $$s${k} = $$ss[${k}];`)}
    const $$last = $$shape.length - 1;
    const $$n = $$shape[$$last];
    ${each((k) => `const $$t${k} = $$s${k}[$$last];`)}
    let $$rows = 1;
    for (let $$d = 0; $$d < $$last; $$d++) $$rows *= $$shape[$$d];
    const $$counter = new Array($$last + 1).fill(0); // cheaper to make than a typed array
    let $$q = 0;
    for (let $$r = 0; $$r < $$rows; $$r++) {
      ${each((k) => `let $$i${k} = $$p${k};`)}
      for (let $$j = 0; $$j < $$n; $$j++) {
        ${each((k) => `const ${params[k]} = $$x${k}[$$i${k}];`)}
        $$out[$$q++] = ${expr};
        ${each((k) => `$$i${k} += $$t${k};`)}
      }
      for (let $$d = $$last - 1; $$d >= 0; $$d--) {
        if (++$$counter[$$d] < $$shape[$$d]) {
          ${each((k) => `$$p${k} += $$s${k}[$$d];`)}
          break;
        }
        $$counter[$$d] = 0;
        ${each((k) => `$$p${k} -= $$s${k}[$$d] * ($$shape[$$d] - 1);`)}
      }
    }`,
    `${name}-strided`,
  );
  const tiled = compile<StridedFn>(
    ['$$out', '$$shape', '$$xs', '$$ps', '$$ss'],
    `${unpack}
    ${each((k) => `const $$s${k} = $$ss[${k}];`)}
    const $$lead = $$shape.length - 2;
    ${each((k) => `const $$a${k} = $$s${k}[$$lead]; const $$t${k} = $$s${k}[$$lead + 1];`)}
    const $$rows = $$shape[$$lead];
    const $$n = $$shape[$$lead + 1];
    let $$outer = 1;
    for (let $$d = 0; $$d < $$lead; $$d++) $$outer *= $$shape[$$d];
    const $$counter = new Array($$lead).fill(0);
    for (let $$o = 0; $$o < $$outer; $$o++) {
      const $$base = $$o * $$rows * $$n;
      for (let $$r0 = 0; $$r0 < $$rows; $$r0 += ${TILE}) {
        const $$r1 = Math.min($$r0 + ${TILE}, $$rows);
        for (let $$j0 = 0; $$j0 < $$n; $$j0 += ${TILE}) {
          const $$j1 = Math.min($$j0 + ${TILE}, $$n);
          for (let $$r = $$r0; $$r < $$r1; $$r++) {
            ${each((k) => `let $$i${k} = $$p${k} + $$r * $$a${k} + $$j0 * $$t${k};`)}
            let $$q = $$base + $$r * $$n + $$j0;
            for (let $$j = $$j0; $$j < $$j1; $$j++) {
              ${each((k) => `const ${params[k]} = $$x${k}[$$i${k}];`)}
              $$out[$$q++] = ${expr};
              ${each((k) => `$$i${k} += $$t${k};`)}
            }
          }
        }
      }
      for (let $$d = $$lead - 1; $$d >= 0; $$d--) {
        if (++$$counter[$$d] < $$shape[$$d]) {
          ${each((k) => `$$p${k} += $$s${k}[$$d];`)}
          break;
        }
        $$counter[$$d] = 0;
        ${each((k) => `$$p${k} -= $$s${k}[$$d] * ($$shape[$$d] - 1);`)}
      }
    }`,
    `${name}-tiled`,
  );
  return contiguous !== null && strided !== null && tiled !== null ? { contiguous, strided, tiled } : null;
}

/** The generic fallback: one odometer loop calling the scalar function per element. */
function interpret(fn: Scalar): Kernel {
  const strided: StridedFn = (out, shape, xs, ps, ss) => {
    const rank = shape.length;
    const counter = new Array<number>(rank).fill(0);
    const at = ps.slice();
    const args = new Array<number>(xs.length);
    let total = 1;
    for (let d = 0; d < rank; d++) total *= shape[d];
    for (let q = 0; q < total; q++) {
      for (let k = 0; k < xs.length; k++) args[k] = xs[k][at[k]];
      out[q] = fn(...args);
      for (let d = rank - 1; d >= 0; d--) {
        if (++counter[d] < shape[d]) {
          for (let k = 0; k < xs.length; k++) at[k] += ss[k][d];
          break;
        }
        counter[d] = 0;
        for (let k = 0; k < xs.length; k++) at[k] -= ss[k][d] * (shape[d] - 1);
      }
    }
  };
  const contiguous: ContigFn = (out, n, xs, ps) =>
    strided(
      out,
      [n],
      xs,
      ps,
      xs.map(() => [1]),
    );
  return { contiguous, strided, tiled: strided };
}

/** Per op table entry, its variants indexed by array types (see {@link kernelFor}). */
const cache = kernelCache<OpFns, Kernel[]>();

/**
 * The kernel for an op, specialised on the output and input array types (a float→int
 * `copy` and an int `add` get different loops, each monomorphic). The variant index has one
 * bit per array (set for int32), so the lookup builds no key string.
 */
function kernelFor(table: OpFns, name: string, out: TypedArray, inputs: readonly ArrayView[]): Kernel {
  let variants = cache.get(table);
  if (variants === undefined) {
    variants = [];
    cache.set(table, variants);
  }
  let index = out instanceof Int32Array ? 1 : 0;
  for (let k = 0; k < inputs.length; k++) if (inputs[k].data instanceof Int32Array) index |= 2 << k;
  let kernel = variants[index];
  if (kernel === undefined) {
    const fn = out instanceof Int32Array && table.int !== undefined ? table.int : table.float;
    const types = [out, ...inputs.map((v) => v.data)]
      .map((a) => (a instanceof Int32Array ? 'i' : 'f'))
      .join('');
    const generated = generate(fn, `${name}-${types}`);
    noteKernel(generated !== null);
    kernel = generated ?? interpret(fn);
    variants[index] = kernel;
  }
  return kernel;
}

/**
 * Merges dimensions that every input walks as one (stride[d] == stride[d+1] * shape[d+1])
 * and drops size-1 dimensions, so most broadcasts and all contiguous cases become rank 1.
 * Returns the collapsed shape and one stride list per input.
 */
export function collapse(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const inputs = strides.length;
  const outShape: number[] = [];
  const outStrides: number[][] = [];
  for (let k = 0; k < inputs; k++) outStrides.push([]);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d];
    if (size === 1) continue;
    const top = outShape.length - 1;
    let merge = top >= 0;
    for (let k = 0; k < inputs && merge; k++) merge = outStrides[k][top] === strides[k][d] * size;
    if (merge) {
      outShape[top] *= size;
      for (let k = 0; k < inputs; k++) outStrides[k][top] = strides[k][d];
    } else {
      outShape.push(size);
      for (let k = 0; k < inputs; k++) outStrides[k].push(strides[k][d]);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (let k = 0; k < inputs; k++) outStrides[k].push(0);
  }
  return { shape: outShape, strides: outStrides };
}

/** `'binary lt'`, or just `'where'`: built only for error messages. */
function kernelName(what: string, op: string): string {
  return op === '' ? what : `${what} ${op}`;
}

/** Throws unless every element the view can reach lies inside its array. */
export function checkBounds(view: ArrayView, shape: readonly number[], what: string, op: string): void {
  if (view.strides.length !== shape.length) {
    throw new RangeError(
      `cpu ${kernelName(what, op)}: view has ${view.strides.length} strides for an output of rank ${shape.length} [${shape}]`,
    );
  }
  let lo = view.offset;
  let hi = view.offset;
  for (let d = 0; d < shape.length; d++) {
    const span = view.strides[d] * (shape[d] - 1);
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= view.data.length || !Number.isInteger(lo) || !Number.isInteger(hi)) {
    throw new RangeError(
      `cpu ${kernelName(what, op)}: strided view (offset ${view.offset}, strides [${view.strides}]) over shape [${shape}] ` +
        `reaches elements ${lo}..${hi} of a buffer of ${view.data.length}`,
    );
  }
}

/** True when the view reads its elements in row-major order with no gaps (size-1 dims aside). */
function isContiguous(view: ArrayView, shape: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && view.strides[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

function run(
  kernel: Kernel,
  what: string,
  op: string,
  inputs: readonly ArrayView[],
  out: TypedArray,
  shape: readonly number[],
) {
  let total = 1;
  for (let d = 0; d < shape.length; d++) total *= shape[d];
  if (out.length < total) {
    throw new RangeError(
      `cpu ${kernelName(what, op)}: output holds ${out.length} elements, shape [${shape}] needs ${total}`,
    );
  }
  if (total === 0) return;
  const xs: TypedArray[] = [];
  const ps: number[] = [];
  let contiguous = true;
  for (let k = 0; k < inputs.length; k++) {
    const v = inputs[k];
    checkBounds(v, shape, what, op);
    xs.push(v.data);
    ps.push(v.offset);
    contiguous &&= isContiguous(v, shape);
  }
  if (contiguous) {
    kernel.contiguous(out, total, xs, ps);
    return;
  }
  const c = collapse(
    shape,
    inputs.map((v) => v.strides),
  );
  if (c.shape.length === 1 && c.strides.every((st) => st[0] === 1)) {
    kernel.contiguous(out, total, xs, ps);
    return;
  }
  // When some input steps across rows in the inner loop (|stride| > 1), each element read
  // touches a new cache line; tiling the last two dimensions keeps those lines resident
  // until they are used up.
  const rank = c.shape.length;
  let transposed = false;
  if (rank >= 2 && c.shape[rank - 2] >= TILE && c.shape[rank - 1] >= TILE) {
    for (let k = 0; k < inputs.length; k++) transposed ||= Math.abs(c.strides[k][rank - 1]) > 1;
  }
  if (transposed) kernel.tiled(out, c.shape, xs, ps, c.strides);
  else kernel.strided(out, c.shape, xs, ps, c.strides);
}

/** `out[i] = op(x[i])` over `shape`. The output array's type picks float or int32 semantics. */
export function unary(op: UnaryOp, x: ArrayView, out: TypedArray, shape: readonly number[]): void {
  const table = UNARY[op];
  if (table === undefined) throw new TypeError(`cpu unary: unknown op '${op}'`);
  const inputs = [x];
  run(kernelFor(table, op, out, inputs), 'unary', op, inputs, out, shape);
}

/** `out[i] = op(a[i], b[i])` over `shape`; comparisons write 0/1. */
export function binary(
  op: BinaryOp,
  a: ArrayView,
  b: ArrayView,
  out: TypedArray,
  shape: readonly number[],
): void {
  const table = BINARY[op];
  if (table === undefined) throw new TypeError(`cpu binary: unknown op '${op}'`);
  const inputs = [a, b];
  run(kernelFor(table, op, out, inputs), 'binary', op, inputs, out, shape);
}

/** `out[i] = cond[i] != 0 ? a[i] : b[i]` over `shape`. */
export function where(
  cond: ArrayView,
  a: ArrayView,
  b: ArrayView,
  out: TypedArray,
  shape: readonly number[],
): void {
  const inputs = [cond, a, b];
  run(kernelFor(WHERE, 'where', out, inputs), 'where', '', inputs, out, shape);
}

/** The unary and binary op names this backend implements (all of the interface's). */
export const UNARY_OPS = Object.keys(UNARY) as UnaryOp[];
/** @see UNARY_OPS */
export const BINARY_OPS = Object.keys(BINARY) as BinaryOp[];
