/**
 * The meaning of every instruction, as plain JavaScript on numbers: the reference that the
 * conformance suite checks each backend's renderer against, and the cpu backend's fallback
 * where code generation is unavailable. Float32 results are rounded with `Math.fround`,
 * int32 results wrap with `| 0`.
 */
import type { DType } from '../backend.js';
import type { BinaryFn, UnaryFn } from './expr.js';
import type { Instr, PointwiseProgram } from './program.js';

const f32 = Math.fround;

/** erf in float64 (a Maclaurin series below 2.5, a continued fraction above): good to ~1e-15. */
export function erf64(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/sqrt(pi) Σ (-1)^n x^(2n+1) / (n! (2n+1)).
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc, evaluated backwards (Lentz-free, 60 terms is ample at x >= 2.5).
  let frac = 0;
  for (let n = 60; n >= 1; n--) frac = n / 2 / (ax + frac);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + frac);
  return Math.sign(x) * (1 - erfc);
}

/** `fn(x)` under the dtype's rules. */
export function applyUnary(fn: UnaryFn, x: number, dtype: DType): number {
  if (dtype === 'int32') {
    switch (fn) {
      case 'neg':
        return -x | 0;
      case 'abs':
        return Math.abs(x) | 0;
      case 'sign':
        return x > 0 ? 1 : x < 0 ? -1 : 0;
      default:
        throw new TypeError(`expr ${fn}: no int32 meaning`);
    }
  }
  switch (fn) {
    case 'neg':
      return -x;
    case 'abs':
      return Math.abs(x);
    case 'sign':
      return x > 0 ? 1 : x < 0 ? -1 : x; // keeps NaN and signed zero
    case 'exp':
      return f32(Math.exp(x));
    case 'log':
      return f32(Math.log(x));
    case 'log1p':
      return f32(Math.log1p(x));
    case 'sqrt':
      return f32(Math.sqrt(x));
    case 'rsqrt':
      return f32(1 / Math.sqrt(x));
    case 'recip':
      return f32(1 / x);
    case 'tanh':
      return f32(Math.tanh(x));
    case 'erf':
      return f32(erf64(x));
    case 'floor':
      return Math.floor(x);
  }
}

/** `fn(a, b)` under the operands' dtype rules (comparisons give 0/1). */
export function applyBinary(fn: BinaryFn, a: number, b: number, dtype: DType): number {
  switch (fn) {
    case 'eq':
      return a === b ? 1 : 0;
    case 'ne':
      return a !== b ? 1 : 0;
    case 'lt':
      return a < b ? 1 : 0;
    case 'le':
      return a <= b ? 1 : 0;
    case 'gt':
      return a > b ? 1 : 0;
    case 'ge':
      return a >= b ? 1 : 0;
    case 'max':
      return a > b || Number.isNaN(a) ? a : b;
    case 'min':
      return a < b || Number.isNaN(a) ? a : b;
    default:
      break;
  }
  if (dtype === 'int32') {
    switch (fn) {
      case 'add':
        return (a + b) | 0;
      case 'sub':
        return (a - b) | 0;
      case 'mul':
        return Math.imul(a, b);
      case 'div':
        return b === 0 ? 0 : (a / b) | 0;
      default:
        throw new TypeError(`expr ${fn}: no int32 meaning`);
    }
  }
  switch (fn) {
    case 'add':
      return f32(a + b);
    case 'sub':
      return f32(a - b);
    case 'mul':
      return f32(a * b);
    case 'div':
      return f32(a / b);
    case 'pow':
      return f32(a ** b);
  }
}

/** Converts a value to `dtype` (float to int32 truncates toward zero; NaN gives 0). */
export function applyCast(x: number, dtype: DType): number {
  return dtype === 'int32' ? Math.trunc(x) | 0 : f32(x);
}

const noPosition = (axis: number): number => {
  throw new Error(`evaluateAt: the program reads E.index(${axis}) but no position was given`);
};

/**
 * Evaluates a program at one element: `read(k)` gives input k's value there, `scalars` the
 * per-call values, `position(d)` the element's coordinate along dimension d of the iteration
 * shape (needed by programs with `E.index` nodes). Writes the outputs' values into `results`
 * (one per output) and returns it.
 */
export function evaluateAt(
  program: PointwiseProgram,
  read: (input: number) => number,
  scalars: ArrayLike<number>,
  values: number[],
  results: number[],
  position: (axis: number) => number = noPosition,
): number[] {
  const code = program.instructions;
  for (let i = 0; i < code.length; i++) values[i] = step(code[i], values, read, scalars, position);
  for (let o = 0; o < program.outputs.length; o++) results[o] = values[program.outputs[o]];
  return results;
}

function step(
  ins: Instr,
  v: number[],
  read: (input: number) => number,
  scalars: ArrayLike<number>,
  position: (axis: number) => number,
): number {
  switch (ins.op) {
    case 'input':
      return read(ins.index);
    case 'index':
      return position(ins.axis);
    case 'scalar':
      return applyCast(scalars[ins.index], ins.dtype);
    case 'const':
      return applyCast(ins.value, ins.dtype);
    case 'unary':
      return applyUnary(ins.fn, v[ins.x], ins.dtype);
    case 'binary':
      // Comparisons return before the dtype matters; arithmetic's dtype is its result's.
      return applyBinary(ins.fn, v[ins.a], v[ins.b], ins.dtype);
    case 'select':
      return v[ins.cond] !== 0 ? v[ins.a] : v[ins.b];
    case 'cast':
      return applyCast(v[ins.x], ins.dtype);
  }
}
