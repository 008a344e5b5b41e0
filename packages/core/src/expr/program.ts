/**
 * A pointwise program: the expressions of one kernel's outputs, flattened into a list of
 * instructions in evaluation order with common subexpressions shared. Renderers walk the
 * list once and emit one statement per instruction (JS, wasm, WGSL), so each backend's
 * generator is a switch over a dozen opcodes, not a tree walk of its own.
 */
import type { DType } from '../backend.js';
import { type BinaryFn, type Expr, exprKey, type UnaryFn } from './expr.js';

/** One instruction: its operands are indices of earlier instructions. */
export type Instr =
  | { readonly op: 'input'; readonly index: number; readonly dtype: DType }
  | { readonly op: 'scalar'; readonly index: number; readonly dtype: DType }
  /** The element's coordinate along dimension `axis` of the iteration shape. */
  | { readonly op: 'index'; readonly axis: number; readonly dtype: 'int32' }
  | { readonly op: 'const'; readonly value: number; readonly dtype: DType }
  | { readonly op: 'unary'; readonly fn: UnaryFn; readonly x: number; readonly dtype: DType }
  | {
      readonly op: 'binary';
      readonly fn: BinaryFn;
      readonly a: number;
      readonly b: number;
      readonly dtype: DType;
    }
  | {
      readonly op: 'select';
      readonly cond: number;
      readonly a: number;
      readonly b: number;
      readonly dtype: DType;
    }
  | { readonly op: 'cast'; readonly x: number; readonly dtype: DType };

/** The instructions `ins` reads (indices of earlier instructions), in operand order. */
export function instrOperands(ins: Instr): number[] {
  switch (ins.op) {
    case 'unary':
    case 'cast':
      return [ins.x];
    case 'binary':
      return [ins.a, ins.b];
    case 'select':
      return [ins.cond, ins.a, ins.b];
    default:
      return [];
  }
}

/** A compiled pointwise kernel description; make one with {@link pointwiseProgram}. */
export interface PointwiseProgram {
  /** Human-readable name for errors, profiles and generated code (`'adamStep'`, `'relu'`). */
  readonly name: string;
  /** Canonical text of the whole program: the cache key for rendered kernels. */
  readonly key: string;
  /** Dtype of each input view the kernel reads. */
  readonly inputs: readonly DType[];
  /** Dtype of each per-call scalar. */
  readonly scalars: readonly DType[];
  /** Instructions in evaluation order, each computed once. */
  readonly instructions: readonly Instr[];
  /** For each output, the instruction whose value it stores. */
  readonly outputs: readonly number[];
  /** Dtype of each output buffer. */
  readonly outputDtypes: readonly DType[];
  /**
   * The least rank of a shape the program can run over: one more than the largest axis of its
   * `E.index` nodes (0 without any). Core refuses a call over a shape of lower rank.
   */
  readonly minRank: number;
}

const interned = new Map<string, PointwiseProgram>();

/**
 * Builds (or returns the interned copy of) the program computing `outputs` from
 * `inputs` and `scalars`. Programs with the same key are the same object, so a backend may
 * cache what it rendered in a `WeakMap` keyed by the program.
 */
export function pointwiseProgram(
  name: string,
  spec: { inputs: readonly DType[]; scalars?: readonly DType[]; outputs: readonly Expr[] },
): PointwiseProgram {
  const scalars = spec.scalars ?? [];
  const key = `${name}|${spec.inputs.join(',')}|${scalars.join(',')}|${spec.outputs.map(exprKey).join(';')}`;
  const known = interned.get(key);
  if (known) return known;
  if (spec.outputs.length === 0) throw new Error(`pointwise ${name}: a program needs at least one output`);
  const instructions: Instr[] = [];
  const byKey = new Map<string, number>();
  let minRank = 0;
  const emit = (e: Expr): number => {
    const k = exprKey(e);
    const seen = byKey.get(k);
    if (seen !== undefined) return seen;
    let instr: Instr;
    switch (e.kind) {
      case 'input':
        if (e.index >= spec.inputs.length || spec.inputs[e.index] !== e.dtype)
          throw new Error(`pointwise ${name}: input ${e.index} (${e.dtype}) is not declared`);
        instr = { op: 'input', index: e.index, dtype: e.dtype };
        break;
      case 'scalar':
        if (e.index >= scalars.length || scalars[e.index] !== e.dtype)
          throw new Error(`pointwise ${name}: scalar ${e.index} (${e.dtype}) is not declared`);
        instr = { op: 'scalar', index: e.index, dtype: e.dtype };
        break;
      case 'const':
        instr = { op: 'const', value: e.value, dtype: e.dtype };
        break;
      case 'index':
        instr = { op: 'index', axis: e.axis, dtype: 'int32' };
        minRank = Math.max(minRank, e.axis + 1);
        break;
      case 'unary':
        instr = { op: 'unary', fn: e.fn, x: emit(e.x), dtype: e.dtype };
        break;
      case 'binary':
        instr = { op: 'binary', fn: e.fn, a: emit(e.a), b: emit(e.b), dtype: e.dtype };
        break;
      case 'select':
        instr = { op: 'select', cond: emit(e.cond), a: emit(e.a), b: emit(e.b), dtype: e.dtype };
        break;
      case 'cast':
        instr = { op: 'cast', x: emit(e.x), dtype: e.dtype };
        break;
    }
    instructions.push(instr);
    byKey.set(k, instructions.length - 1);
    return instructions.length - 1;
  };
  const outputs = spec.outputs.map(emit);
  const program: PointwiseProgram = {
    name,
    key,
    inputs: [...spec.inputs],
    scalars: [...scalars],
    instructions,
    outputs,
    outputDtypes: spec.outputs.map((e) => e.dtype),
    minRank,
  };
  interned.set(key, program);
  return program;
}
