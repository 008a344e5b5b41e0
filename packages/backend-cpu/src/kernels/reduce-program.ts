/**
 * Reductions whose input and epilogue are pointwise programs (core's `ReduceArgs.input` and
 * `.epilogue`): one generated loop evaluates the input program at each `[o, r, i]` (the same
 * statements the pointwise kernel renders, see `instrExpr`), folds it into a float64
 * accumulator, then runs the epilogue on the rounded result and stores it. No intermediate
 * array exists. The loop walks `r` innermost for each output: these reductions are counts and
 * small row means, where that order costs nothing next to the plain reduce's vector sweep.
 * Where `new Function` is forbidden the same loops run through core's reference interpreter.
 */
import {
  applyCast,
  type DType,
  erf64,
  evaluateAt,
  type PointwiseProgram,
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

export type ExpressionOp = 'sum' | 'max' | 'min';

/** What a rendered reduction takes: the output `[outer, inner]`, the extents and both programs' operands. */
type ReduceOperands = [
  out: TypedArray,
  outer: number,
  size: number,
  inner: number,
  input: ProgramOperands,
  epilogue: ProgramOperands | null,
];

type ReduceFn = (...operands: ReduceOperands) => void;

const INIT: Record<ExpressionOp, string> = { sum: '0', max: '-Infinity', min: 'Infinity' };
// max/min propagate NaN (a NaN accumulator stays; a NaN value replaces any number), as the plain reduce.
const FOLD: Record<ExpressionOp, (acc: string, v: string) => string> = {
  sum: (acc, v) => `${acc} += ${v};`,
  max: (acc, v) => `if (${acc} === ${acc} && !(${v} <= ${acc})) ${acc} = ${v};`,
  min: (acc, v) => `if (${acc} === ${acc} && !(${v} >= ${acc})) ${acc} = ${v};`,
};

/** The reduced value rounded to its dtype, as the plain reduce stores it. */
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

function generate(
  op: ExpressionOp,
  input: PointwiseProgram,
  epilogue: PointwiseProgram | null,
): ReduceFn | null {
  const reduced = input.outputDtypes[0];
  const read = (k: number) => `$$ax${k}[$$ap${k} + $$o * $$at${k}_0 + $$r * $$at${k}_1 + $$i * $$at${k}_2]`;
  const readEpi = (k: number) =>
    k === 0 ? '$$red' : `$$bx${k - 1}[$$bp${k - 1} + $$o * $$bt${k - 1}_0 + $$i * $$bt${k - 1}_1]`;
  const store =
    epilogue === null
      ? `$$out[$$q] = $$acc;`
      : `const $$red = ${roundTo(reduced, '$$acc')};
          ${programValue(epilogue, '$$b', readEpi, '$$res')}
          $$out[$$q] = $$res;`;
  // the epilogue's operands object lists inputs 1.. only; its program declares input 0 too
  const epiPrelude =
    epilogue === null ? '' : prelude({ ...epilogue, inputs: epilogue.inputs.slice(1) }, '$$b', '$$epi', 2);
  const body = `
    ${prelude(input, '$$a', '$$in', 3)}
    ${epiPrelude}
    let $$q = 0;
    for (let $$o = 0; $$o < $$outer; $$o++) {
      for (let $$i = 0; $$i < $$inner; $$i++, $$q++) {
        let $$acc = ${INIT[op]};
        for (let $$r = 0; $$r < $$size; $$r++) {
          ${programValue(input, '$$a', read, '$$val')}
          ${FOLD[op]('$$acc', '$$val')}
        }
        ${store}
      }
    }`;
  const factory = compile<(f: typeof Math.fround, erf: (x: number) => number) => ReduceFn>(
    ['$$f', '$$erf'],
    `return function ($$out, $$outer, $$size, $$inner, $$in, $$epi) {${body}\n};`,
    `reduce-${op}-${input.name.replace(/[^\w-]/g, '_')}`,
  );
  return factory === null ? null : factory(Math.fround, erf64);
}

/** The fallback: the same loops through core's reference interpreter. */
function interpret(op: ExpressionOp, input: PointwiseProgram, epilogue: PointwiseProgram | null): ReduceFn {
  const reduced = input.outputDtypes[0];
  return (out, outer, size, inner, a, b) => {
    const values: number[] = [];
    const results: number[] = [];
    let q = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++, q++) {
        let acc = op === 'sum' ? 0 : op === 'max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
        for (let r = 0; r < size; r++) {
          const read = (k: number) => a.xs[k][a.ps[k] + o * a.ss[k][0] + r * a.ss[k][1] + i * a.ss[k][2]];
          const v = evaluateAt(input, read, a.scalars, values, results)[0];
          if (op === 'sum') acc += v;
          else if (!Number.isNaN(acc) && !(op === 'max' ? v <= acc : v >= acc)) acc = v;
        }
        if (b === null || epilogue === null) {
          out[q] = acc;
          continue;
        }
        const red = applyCast(acc, reduced);
        const read = (k: number) =>
          k === 0 ? red : b.xs[k - 1][b.ps[k - 1] + o * b.ss[k - 1][0] + i * b.ss[k - 1][1]];
        out[q] = evaluateAt(epilogue, read, b.scalars, values, results)[0];
      }
    }
  };
}

/** Keyed by op and both programs' text. */
const cache = kernelCache<string, ReduceFn>();

/**
 * Reduces `input`'s program over `[outer, size, inner]` into `out: [outer, inner]`, then applies
 * `epilogue` (its input 0 is the reduced value). Operands are checked by the caller.
 */
export function reduceProgram(op: ExpressionOp, ...operands: ReduceOperands): void {
  const [, outer, , inner, input, epilogue] = operands;
  if (outer * inner === 0) return;
  const key = `${op}#${input.program.key}#${epilogue?.program.key ?? ''}`;
  let fn = cache.get(key);
  if (fn === undefined) {
    const generated = generate(op, input.program, epilogue?.program ?? null);
    noteKernel(generated !== null);
    fn = generated ?? interpret(op, input.program, epilogue?.program ?? null);
    cache.set(key, fn);
  }
  fn(...operands);
}
