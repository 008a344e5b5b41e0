/**
 * Axis reductions (core's `ReduceArgs`), rendered from their input program: one generated loop
 * evaluates the input program at each `[o, r, i]` (the same statements the pointwise kernel
 * renders, see `instrExpr`), folds it into a float64 accumulator, then runs the epilogue on the
 * rounded result and stores it. No intermediate array exists. A plain reduction of a buffer is
 * the identity program over it ({@link plainInput}), so every reduction takes these loops.
 * Two schedules, as memory order wants: `inner == 1` folds each row into a scalar; `inner > 1`
 * sweeps rows of `inner` values into a vector of accumulators, so a contiguous input is read in
 * order. Both add each output's terms in axis order, so they give the same bits.
 * Where `new Function` is forbidden the same arithmetic runs through core's reference interpreter.
 */
import {
  applyCast,
  type DType,
  E,
  erf64,
  evaluateAt,
  type PointwiseProgram,
  pointwiseProgram,
  type ReduceOp,
  type TypedArray,
} from '@nabla/core';
import { compile, kernelCache, noteKernel } from './codegen.js';
import { instrExpr } from './pointwise.js';

/** Arrays, offsets and per-dimension strides of a program's inputs, and its scalars. */
export interface ProgramOperands {
  readonly program: PointwiseProgram;
  readonly xs: readonly TypedArray[];
  readonly ps: readonly number[];
  /** Per input, one stride per dimension (`[o, r, i]` for the input, `[o, i]` for the epilogue). */
  readonly ss: readonly (readonly number[])[];
  readonly scalars: readonly number[];
}

const IDENTITY = {
  float32: pointwiseProgram('x', { inputs: ['float32'], outputs: [E.input(0, 'float32')] }),
  int32: pointwiseProgram('x', { inputs: ['int32'], outputs: [E.input(0, 'int32')] }),
};

/** The input of a plain reduction: the identity program over a contiguous `[outer, size, inner]` array. */
export function plainInput(x: TypedArray, size: number, inner: number): ProgramOperands {
  const program = IDENTITY[x instanceof Int32Array ? 'int32' : 'float32'];
  return { program, xs: [x], ps: [0], ss: [[size * inner, inner, 1]], scalars: [] };
}

/** A rendered reduction: takes {@link reduceProgram}'s arguments after the op. */
type ReduceFn =
  Parameters<typeof reduceProgram> extends [ReduceOp, ...infer Operands]
    ? (...operands: Operands) => void
    : never;

const isArg = (op: ReduceOp) => op === 'argmax' || op === 'argmin';
const INIT: Record<ReduceOp, number> = {
  sum: 0,
  max: Number.NEGATIVE_INFINITY,
  min: Number.POSITIVE_INFINITY,
  argmax: Number.NEGATIVE_INFINITY,
  argmin: Number.POSITIVE_INFINITY,
};
/** Max-like ops keep their accumulator while `v <= acc`, min-like ones while `v >= acc`. */
const keeps = (op: ReduceOp) => (op === 'max' || op === 'argmax' ? '<=' : '>=');

/**
 * The statement folding `v`, at axis position `$$r`, into `acc` (and `idx` for arg ops). Max/min
 * propagate NaN (a NaN accumulator stays; a NaN `v` replaces any number: `!(v <= acc)` holds);
 * a tie keeps the first index.
 */
function fold(op: ReduceOp, acc: string, idx: string, v: string): string {
  if (op === 'sum') return `${acc} += ${v};`;
  const take = `${acc} === ${acc} && !(${v} ${keeps(op)} ${acc})`;
  return isArg(op) ? `if (${take}) { ${acc} = ${v}; ${idx} = $$r; }` : `if (${take}) ${acc} = ${v};`;
}

/** The reduced value rounded to its dtype, as a reduce into a buffer stores it. */
const roundTo = (dtype: DType, acc: string) => (dtype === 'int32' ? `(${acc} | 0)` : `$$f(${acc})`);

/**
 * Statements computing `program`'s single output into `name`: values `${p}v<i>`, input k read
 * by `read(k)`, scalar k held in `${p}s<k>`.
 */
function programValue(
  program: PointwiseProgram,
  p: string,
  read: (k: number) => string,
  name: string,
): string {
  // Core refuses position nodes (E.index) in reduction programs, so `at` is never read.
  const v = (i: number) => `${p}v${i}`;
  const scalar = (k: number) => `${p}s${k}`;
  const lines = program.instructions.map(
    (ins, i) => `const ${v(i)} = ${instrExpr(ins, v, read, '0', scalar)};`,
  );
  lines.push(`const ${name} = ${v(program.outputs[0])};`);
  return lines.join('\n          ');
}

/** Local copies of a program's operands under prefix `p` (`src` names the operands object). */
function prelude(program: PointwiseProgram, p: string, src: string, dims: number): string {
  const lines = program.inputs.map((_, k) => {
    const strides = Array.from({ length: dims }, (_, d) => `const ${p}t${k}_${d} = ${src}.ss[${k}][${d}];`);
    return `const ${p}x${k} = ${src}.xs[${k}]; const ${p}p${k} = ${src}.ps[${k}]; ${strides.join(' ')}`;
  });
  program.scalars.forEach((d, k) => {
    const raw = `${src}.scalars[${k}]`;
    lines.push(`const ${p}s${k} = ${d === 'int32' ? `${raw} | 0` : `$$f(${raw})`};`);
  });
  return lines.join('\n    ');
}

function generate(op: ReduceOp, input: PointwiseProgram, epilogue: PointwiseProgram | null): ReduceFn | null {
  const reduced = input.outputDtypes[0];
  const arg = isArg(op);
  // The innermost loop walks one pointer per input (`$$c<k>`, stepped by that input's stride
  // along the loop's axis), so a contiguous input is read as a plain array walk.
  const coord = ['$$o', '$$r', '$$i'];
  const loop = (d: number, bound: string, fixed: readonly number[]) => {
    const each = (f: (k: number) => string) => input.inputs.map((_, k) => f(k)).join('');
    const start = (k: number) =>
      `, $$c${k} = $$ap${k}${fixed.map((f) => ` + ${coord[f]} * $$at${k}_${f}`).join('')}`;
    const c = coord[d];
    return `for (let ${c} = 0${each(start)}; ${c} < ${bound}; ${c}++${each((k) => `, $$c${k} += $$at${k}_${d}`)})`;
  };
  const read = (k: number) => `$$ax${k}[$$c${k}]`;
  const readEpi = (k: number) =>
    k === 0 ? '$$red' : `$$bx${k - 1}[$$bp${k - 1} + $$o * $$bt${k - 1}_0 + $$i * $$bt${k - 1}_1]`;
  // the result of output `$$q` from `acc` (and `idx`)
  const store = (acc: string, idx: string) => {
    if (arg) return `$$out[$$q] = ${idx};`;
    if (epilogue === null) return `$$out[$$q] = ${acc};`;
    return `const $$red = ${roundTo(reduced, acc)};
          ${programValue(epilogue, '$$b', readEpi, '$$res')}
          $$out[$$q] = $$res;`;
  };
  // the epilogue's operands object lists inputs 1.. only; its program declares input 0 too
  const epiPrelude =
    epilogue === null ? '' : prelude({ ...epilogue, inputs: epilogue.inputs.slice(1) }, '$$b', '$$epi', 2);
  const body = `
    ${prelude(input, '$$a', '$$in', 3)}
    ${epiPrelude}
    if ($$inner === 1) {
      const $$i = 0;
      for (let $$o = 0, $$q = 0; $$o < $$outer; $$o++, $$q++) {
        let $$acc = ${INIT[op]};
        ${arg ? 'let $$idx = 0;' : ''}
        ${loop(1, '$$size', [0])} {
          ${programValue(input, '$$a', read, '$$val')}
          ${fold(op, '$$acc', '$$idx', '$$val')}
        }
        ${store('$$acc', '$$idx')}
      }
      return;
    }
    const $$accs = new Float64Array($$inner);
    ${arg ? 'const $$idxs = new Int32Array($$inner);' : ''}
    for (let $$o = 0; $$o < $$outer; $$o++) {
      $$accs.fill(${INIT[op]});
      ${arg ? '$$idxs.fill(0);' : ''}
      for (let $$r = 0; $$r < $$size; $$r++) {
        ${loop(2, '$$inner', [0, 1])} {
          ${programValue(input, '$$a', read, '$$val')}
          ${fold(op, '$$accs[$$i]', '$$idxs[$$i]', '$$val')}
        }
      }
      for (let $$i = 0, $$q = $$o * $$inner; $$i < $$inner; $$i++, $$q++) {
        ${store('$$accs[$$i]', '$$idxs[$$i]')}
      }
    }`;
  const factory = compile<(f: typeof Math.fround, erf: (x: number) => number) => ReduceFn>(
    ['$$f', '$$erf'],
    `return function ($$out, $$outer, $$size, $$inner, $$in, $$epi) {${body}\n};`,
    `reduce-${op}-${input.name.replace(/[^\w-]/g, '_')}`,
  );
  return factory === null ? null : factory(Math.fround, erf64);
}

/** The fallback: the same arithmetic through core's reference interpreter, one output at a time. */
function interpret(op: ReduceOp, input: PointwiseProgram, epilogue: PointwiseProgram | null): ReduceFn {
  const reduced = input.outputDtypes[0];
  const take = (v: number, acc: number) => !Number.isNaN(acc) && !(keeps(op) === '<=' ? v <= acc : v >= acc);
  return (out, outer, size, inner, a, b) => {
    const values: number[] = [];
    const results: number[] = [];
    let q = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++, q++) {
        let acc = INIT[op];
        let idx = 0;
        for (let r = 0; r < size; r++) {
          const read = (k: number) => a.xs[k][a.ps[k] + o * a.ss[k][0] + r * a.ss[k][1] + i * a.ss[k][2]];
          const v = evaluateAt(input, read, a.scalars, values, results)[0];
          if (op === 'sum') acc += v;
          else if (take(v, acc)) {
            acc = v;
            idx = r;
          }
        }
        if (isArg(op)) out[q] = idx;
        else if (b === null || epilogue === null) out[q] = acc;
        else {
          const red = applyCast(acc, reduced);
          const read = (k: number) =>
            k === 0 ? red : b.xs[k - 1][b.ps[k - 1] + o * b.ss[k - 1][0] + i * b.ss[k - 1][1]];
          out[q] = evaluateAt(epilogue, read, b.scalars, values, results)[0];
        }
      }
    }
  };
}

/** By input program (interned, so its identity is its text), then op and epilogue text. */
const cache = kernelCache<PointwiseProgram, Map<string, ReduceFn>>();

/**
 * Reduces `input`'s program over `[outer, size, inner]` into `out: [outer, inner]`, then applies
 * `epilogue` (its input 0 is the reduced value). Arg ops write int32 indices; a `sum` over
 * `size == 0` writes 0. Operands are checked by the caller.
 */
export function reduceProgram(
  op: ReduceOp,
  out: TypedArray,
  outer: number,
  size: number,
  inner: number,
  input: ProgramOperands,
  epilogue: ProgramOperands | null,
): void {
  if (outer * inner === 0) return;
  let byOp = cache.get(input.program);
  if (byOp === undefined) {
    byOp = new Map();
    cache.set(input.program, byOp);
  }
  const key = epilogue === null ? op : `${op}#${epilogue.program.key}`;
  let fn = byOp.get(key);
  if (fn === undefined) {
    const generated = generate(op, input.program, epilogue?.program ?? null);
    noteKernel(generated !== null);
    fn = generated ?? interpret(op, input.program, epilogue?.program ?? null);
    byOp.set(key, fn);
  }
  fn(out, outer, size, inner, input, epilogue);
}
