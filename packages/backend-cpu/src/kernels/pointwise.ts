/**
 * The pointwise kernel: evaluates a program (core's kernels-as-data format) at every element.
 *
 * Each program is rendered once to JavaScript: one statement per instruction, with core's
 * reference semantics (`expr/evaluate.ts`) spelled out inline (`Math.fround` on every float32
 * node, `| 0` and `Math.imul` for int32), placed inside three loops: a contiguous loop, a
 * strided loop (innermost dimension walked with one stride per input, outer dimensions with
 * an odometer) and a tiled loop for transposed reads. Every program gets its own function
 * literals, so V8's type feedback stays monomorphic and the whole expression is compiled
 * into the loop. Where `new Function` is forbidden (see `codegen.ts`) the same loops run
 * through core's reference interpreter.
 *
 * An element's inputs are all read before its outputs are written, so an output may alias an
 * input read through the identity view (in-place updates).
 */
import {
  applyCast,
  erf64,
  evaluateAt,
  type Instr,
  type PointwiseProgram,
  type TypedArray,
} from '@nabla/core';
import { compile, kernelCache, noteKernel } from './codegen.js';

/** A strided read of a typed array; strides are in elements, one per output dimension. */
export interface ArrayView {
  readonly data: TypedArray;
  readonly offset: number;
  readonly strides: readonly number[];
}

/**
 * Writes `outs[j][i]` for `i < n`, input k read at `ps[k] + i`. `ix` holds, per dimension `d`
 * of the call's (uncollapsed) shape, `[inner_d, size_d]`: element i's coordinate along d, for
 * `E.index(d)`, is `floor(i / inner_d) % size_d` (outputs are row-major, so i is also the
 * output's flat index).
 */
type ContigFn = (
  outs: readonly TypedArray[],
  n: number,
  xs: readonly TypedArray[],
  ps: readonly number[],
  scalars: readonly number[],
  ix: readonly number[],
) => void;
/** The same over a collapsed `shape`, input k read at `ps[k] + Σ idx[d]·ss[k][d]`. */
type StridedFn = (
  outs: readonly TypedArray[],
  shape: readonly number[],
  xs: readonly TypedArray[],
  ps: readonly number[],
  ss: readonly (readonly number[])[],
  scalars: readonly number[],
  ix: readonly number[],
) => void;

interface Kernel {
  readonly contiguous: ContigFn;
  readonly strided: StridedFn;
  /** Shapes whose last two dims some input reads transposed (large inner stride): 32×32 tiles. */
  readonly tiled: StridedFn;
}

/** Tile edge for transposed reads: 32 rows of one tile stay in L1 while it is read across. */
const TILE = 32;

// ---- rendering one element -----------------------------------------------------------

/** A JS literal for a constant already converted to its dtype. */
function literal(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return `(${String(v)})`;
}

const FLOAT_UNARY: Record<string, (a: string) => string> = {
  neg: (a) => `-${a}`,
  abs: (a) => `Math.abs(${a})`,
  sign: (a) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a})`, // keeps NaN and signed zero
  exp: (a) => `$$f(Math.exp(${a}))`,
  log: (a) => `$$f(Math.log(${a}))`,
  log1p: (a) => `$$f(Math.log1p(${a}))`,
  sqrt: (a) => `$$f(Math.sqrt(${a}))`,
  rsqrt: (a) => `$$f(1 / Math.sqrt(${a}))`,
  recip: (a) => `$$f(1 / ${a})`,
  tanh: (a) => `$$f(Math.tanh(${a}))`,
  erf: (a) => `$$f($$erf(${a}))`,
  floor: (a) => `Math.floor(${a})`,
};

const INT_UNARY: Record<string, (a: string) => string> = {
  neg: (a) => `(-${a} | 0)`,
  abs: (a) => `(Math.abs(${a}) | 0)`,
  sign: (a) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : 0)`,
};

const COMPARE: Record<string, string> = { eq: '===', ne: '!==', lt: '<', le: '<=', gt: '>', ge: '>=' };

const FLOAT_BINARY: Record<string, (a: string, b: string) => string> = {
  add: (a, b) => `$$f(${a} + ${b})`,
  sub: (a, b) => `$$f(${a} - ${b})`,
  mul: (a, b) => `$$f(${a} * ${b})`,
  div: (a, b) => `$$f(${a} / ${b})`,
  pow: (a, b) => `$$f(${a} ** ${b})`,
};

const INT_BINARY: Record<string, (a: string, b: string) => string> = {
  add: (a, b) => `((${a} + ${b}) | 0)`,
  sub: (a, b) => `((${a} - ${b}) | 0)`,
  mul: (a, b) => `Math.imul(${a}, ${b})`,
  div: (a, b) => `(${b} === 0 ? 0 : (${a} / ${b}) | 0)`,
};

/**
 * The JS expression of one instruction; `v(i)` names instruction i's value, `read(k)` input k,
 * `at` the flat output index of the element and `scalar(k)` scalar k (already converted to its
 * dtype).
 */
export function instrExpr(
  ins: Instr,
  v: (i: number) => string,
  read: (k: number) => string,
  at: string,
  scalar: (k: number) => string = (k) => `$$s${k}`,
): string {
  switch (ins.op) {
    case 'input':
      return read(ins.index);
    case 'index':
      return `(Math.floor(${at} / $$in${ins.axis}) % $$sz${ins.axis})`;
    case 'scalar':
      return scalar(ins.index);
    case 'const':
      return literal(applyCast(ins.value, ins.dtype));
    case 'unary': {
      const table = ins.dtype === 'int32' ? INT_UNARY : FLOAT_UNARY;
      const f = table[ins.fn];
      if (f === undefined) throw new TypeError(`cpu pointwise: ${ins.fn} has no ${ins.dtype} meaning`);
      return f(v(ins.x));
    }
    case 'binary': {
      const a = v(ins.a);
      const b = v(ins.b);
      const cmp = COMPARE[ins.fn];
      if (cmp !== undefined) return `(${a} ${cmp} ${b} ? 1 : 0)`;
      // max/min propagate NaN from either side (`a !== a` is NaN).
      if (ins.fn === 'max') return `(${a} > ${b} || ${a} !== ${a} ? ${a} : ${b})`;
      if (ins.fn === 'min') return `(${a} < ${b} || ${a} !== ${a} ? ${a} : ${b})`;
      const f = (ins.dtype === 'int32' ? INT_BINARY : FLOAT_BINARY)[ins.fn];
      if (f === undefined) throw new TypeError(`cpu pointwise: ${ins.fn} has no ${ins.dtype} meaning`);
      return f(a, b);
    }
    case 'select':
      return `(${v(ins.cond)} !== 0 ? ${v(ins.a)} : ${v(ins.b)})`;
    case 'cast':
      return ins.dtype === 'int32' ? `(Math.trunc(${v(ins.x)}) | 0)` : `$$f(${v(ins.x)})`;
  }
}

/**
 * The statements computing one element: every instruction into a `const`, then the stores.
 * `read(k)` is the array access of input k at this element, `at` the output index.
 */
function elementBody(program: PointwiseProgram, read: (k: number) => string, at: string): string {
  const v = (i: number) => `$$v${i}`;
  const lines = program.instructions.map((ins, i) => `const $$v${i} = ${instrExpr(ins, v, read, at)};`);
  program.outputs.forEach((i, j) => {
    lines.push(`$$o${j}[${at}] = $$v${i};`);
  });
  return lines.join('\n        ');
}

// ---- the loops ------------------------------------------------------------------------

/** The axes the program's `E.index` nodes read, each once. */
function indexAxes(program: PointwiseProgram): number[] {
  const axes = new Set<number>();
  for (const ins of program.instructions) if (ins.op === 'index') axes.add(ins.axis);
  return [...axes];
}

/** Renders the three loops of a program, or returns null when code generation is unavailable. */
function generate(program: PointwiseProgram): Kernel | null {
  const inputs = program.inputs.length;
  const each = (count: number, f: (k: number) => string) =>
    Array.from({ length: count }, (_, k) => f(k)).join(' ');
  const eachIn = (f: (k: number) => string) => each(inputs, f);
  const prelude = `${each(program.outputs.length, (j) => `const $$o${j} = $$outs[${j}];`)}
    ${eachIn((k) => `const $$x${k} = $$xs[${k}]; let $$p${k} = $$ps[${k}];`)}
    ${program.scalars.map((d, k) => `const $$s${k} = ${d === 'int32' ? `$$sc[${k}] | 0` : `$$f($$sc[${k}])`};`).join(' ')}
    ${indexAxes(program)
      .map((d) => `const $$in${d} = $$ix[${2 * d}], $$sz${d} = $$ix[${2 * d + 1}];`)
      .join(' ')}`;
  const odometer = (last: string) => `for (let $$d = ${last} - 1; $$d >= 0; $$d--) {
        if (++$$counter[$$d] < $$shape[$$d]) {
          ${eachIn((k) => `$$p${k} += $$s_${k}[$$d];`)}
          break;
        }
        $$counter[$$d] = 0;
        ${eachIn((k) => `$$p${k} -= $$s_${k}[$$d] * ($$shape[$$d] - 1);`)}
      }`;
  const strideRead = (k: number) => `$$x${k}[$$i${k}]`;
  const contiguous = `function contiguous($$outs, $$n, $$xs, $$ps, $$sc, $$ix) {
    ${prelude}
    for (let $$i = 0; $$i < $$n; $$i++) {
        ${elementBody(program, (k) => `$$x${k}[$$p${k} + $$i]`, '$$i')}
    }
  }`;
  const strided = `function strided($$outs, $$shape, $$xs, $$ps, $$ss, $$sc, $$ix) {
    ${prelude}
    ${eachIn((k) => `const $$s_${k} = $$ss[${k}];`)}
    const $$last = $$shape.length - 1;
    const $$n = $$shape[$$last];
    ${eachIn((k) => `const $$t${k} = $$s_${k}[$$last];`)}
    let $$rows = 1;
    for (let $$d = 0; $$d < $$last; $$d++) $$rows *= $$shape[$$d];
    const $$counter = new Array($$last + 1).fill(0); // cheaper to make than a typed array
    let $$q = 0;
    for (let $$r = 0; $$r < $$rows; $$r++) {
      ${eachIn((k) => `let $$i${k} = $$p${k};`)}
      for (let $$j = 0; $$j < $$n; $$j++, $$q++) {
        ${elementBody(program, strideRead, '$$q')}
        ${eachIn((k) => `$$i${k} += $$t${k};`)}
      }
      ${odometer('$$last')}
    }
  }`;
  const tiled = `function tiled($$outs, $$shape, $$xs, $$ps, $$ss, $$sc, $$ix) {
    ${prelude}
    ${eachIn((k) => `const $$s_${k} = $$ss[${k}];`)}
    const $$lead = $$shape.length - 2;
    ${eachIn((k) => `const $$a${k} = $$s_${k}[$$lead]; const $$t${k} = $$s_${k}[$$lead + 1];`)}
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
            ${eachIn((k) => `let $$i${k} = $$p${k} + $$r * $$a${k} + $$j0 * $$t${k};`)}
            let $$q = $$base + $$r * $$n + $$j0;
            for (let $$j = $$j0; $$j < $$j1; $$j++, $$q++) {
        ${elementBody(program, strideRead, '$$q')}
              ${eachIn((k) => `$$i${k} += $$t${k};`)}
            }
          }
        }
      }
      ${odometer('$$lead')}
    }
  }`;
  const factory = compile<(f: typeof Math.fround, erf: (x: number) => number) => Kernel>(
    ['$$f', '$$erf'],
    `${contiguous}\n${strided}\n${tiled}\nreturn { contiguous, strided, tiled };`,
    `pointwise-${program.name.replace(/[^\w-]/g, '_')}`,
  );
  return factory === null ? null : factory(Math.fround, erf64);
}

/** The fallback: one odometer loop through core's reference interpreter. */
function interpret(program: PointwiseProgram): Kernel {
  const strided: StridedFn = (outs, shape, xs, ps, ss, scalars, ix) => {
    const rank = shape.length;
    const counter = new Array<number>(rank).fill(0);
    const at = ps.slice();
    const values: number[] = [];
    const results: number[] = [];
    const read = (k: number) => xs[k][at[k]];
    let total = 1;
    for (let d = 0; d < rank; d++) total *= shape[d];
    let q = 0;
    const position = (d: number) => Math.floor(q / ix[2 * d]) % ix[2 * d + 1];
    for (; q < total; q++) {
      evaluateAt(program, read, scalars, values, results, position);
      for (let o = 0; o < outs.length; o++) outs[o][q] = results[o];
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
  const contiguous: ContigFn = (outs, n, xs, ps, scalars, ix) =>
    strided(
      outs,
      [n],
      xs,
      ps,
      xs.map(() => [1]),
      scalars,
      ix,
    );
  return { contiguous, strided, tiled: strided };
}

/** Rendered kernels by program (programs are interned, so the object is the key). */
const cache = kernelCache<PointwiseProgram, Kernel>();

function kernelFor(program: PointwiseProgram): Kernel {
  let kernel = cache.get(program);
  if (kernel === undefined) {
    const generated = generate(program);
    noteKernel(generated !== null);
    kernel = generated ?? interpret(program);
    cache.set(program, kernel);
  }
  return kernel;
}

// ---- iteration space ------------------------------------------------------------------

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

/** True when strides read their elements in row-major order with no gaps (size-1 dims aside). */
function isContiguous(strides: readonly number[], shape: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/**
 * How a call runs, decided from the program, the views' strides and the shape alone: the
 * generated kernel and its loop (contiguous, strided or tiled). `run` takes the arrays and
 * offsets of the inputs, the outputs and the scalars as they are on each call.
 */
export type PointwiseRun = (
  outputs: readonly TypedArray[],
  xs: readonly TypedArray[],
  ps: readonly number[],
  scalars: readonly number[],
) => void;

/** Plans a call over `shape` with inputs of these strides (null: nothing to do, no elements). */
export function planPointwise(
  program: PointwiseProgram,
  strides: readonly (readonly number[])[],
  shape: readonly number[],
): PointwiseRun | null {
  let total = 1;
  for (let d = 0; d < shape.length; d++) total *= shape[d];
  if (total === 0) return null;
  const kernel = kernelFor(program);
  // [inner, size] per dim for E.index (computed from the shape before collapsing)
  const ix: number[] = [];
  if (program.minRank > 0) {
    let inner = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      ix[2 * d] = inner;
      ix[2 * d + 1] = shape[d];
      inner *= shape[d];
    }
  }
  let contiguous = true;
  for (const st of strides) contiguous &&= isContiguous(st, shape);
  if (contiguous) return (outputs, xs, ps, scalars) => kernel.contiguous(outputs, total, xs, ps, scalars, ix);
  const c = collapse(shape, strides);
  if (c.shape.length === 1 && c.strides.every((st) => st[0] === 1))
    return (outputs, xs, ps, scalars) => kernel.contiguous(outputs, total, xs, ps, scalars, ix);
  // When some input steps across rows in the inner loop (|stride| > 1), each element read
  // touches a new cache line; tiling the last two dimensions keeps those lines resident
  // until they are used up.
  const rank = c.shape.length;
  let transposed = false;
  if (rank >= 2 && c.shape[rank - 2] >= TILE && c.shape[rank - 1] >= TILE) {
    for (let k = 0; k < strides.length; k++) transposed ||= Math.abs(c.strides[k][rank - 1]) > 1;
  }
  if (transposed)
    return (outputs, xs, ps, scalars) => kernel.tiled(outputs, c.shape, xs, ps, c.strides, scalars, ix);
  return (outputs, xs, ps, scalars) => kernel.strided(outputs, c.shape, xs, ps, c.strides, scalars, ix);
}

/**
 * Evaluates `program` over `shape`: input k through `inputs[k]` (the caller checked the call
 * with core's `checkPointwiseArgs`), output j written row-major into `outputs[j]`.
 */
export function pointwise(
  program: PointwiseProgram,
  inputs: readonly ArrayView[],
  scalars: readonly number[],
  outputs: readonly TypedArray[],
  shape: readonly number[],
): void {
  const run = planPointwise(
    program,
    inputs.map((v) => v.strides),
    shape,
  );
  run?.(
    outputs,
    inputs.map((v) => v.data),
    inputs.map((v) => v.offset),
    scalars,
  );
}
