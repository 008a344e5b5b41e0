/**
 * Reductions (core's `ReduceArgs`) rendered into the reduction template of reduce.ts: an input
 * program's instructions become the loop's `load` (a plain reduction loads its contiguous
 * buffer directly), the epilogue's wrap its `store`, so the values reduced never reach memory.
 * Every reduction takes the same loops, so a program's results are the bits of "pointwise into
 * a buffer, reduce it, pointwise epilogue" (the staged path, see core's `reduceStaged`).
 *
 * Uniform words after the template's: input scalars, then per input view its offset and its
 * `[outer, size, inner]` strides; epilogue scalars, then per extra epilogue view its offset
 * and `[outer, inner]` strides.
 */
import type { DType, PointwiseProgram, ReduceOp } from '@nabla/core';
import { type Binding, PARAM_WORDS, type ParamWriter, type Runtime } from '../runtime.js';
import { type Helper, helperSource, type ProgramIo, programLines } from './pointwise.js';
import {
  dispatchReduce,
  isSerial,
  REDUCE_WORDS,
  type ReduceIo,
  reduceChunks,
  reduceTemplate,
} from './reduce.js';
import { storage, wgslType } from './wgsl.js';

/** A strided view of an operand whose buffer is `B`: a device buffer, or once bound its binding (from 1). */
export interface ViewOf<B> {
  readonly buffer: B;
  readonly offset: number;
  /** One stride per iterated dim. */
  readonly strides: readonly number[];
}

/** A program with its operands' views (buffers of type `B`) and its scalars. */
export interface ProgramOf<B> {
  readonly program: PointwiseProgram;
  readonly views: readonly ViewOf<B>[];
  readonly scalars: readonly number[];
}

/** A program whose views name bindings. */
export type BoundProgram = ProgramOf<number>;

/**
 * One stage of a reduction: the values come from `input` (or, when null, from a contiguous
 * buffer at binding 1: a plain reduction's input, or the partials of a chunked reduction's
 * first stage); each result goes through `epilogue` when present, into `out` (int32 indices
 * for argmax/argmin).
 */
export interface ProgramStage {
  readonly op: ReduceOp;
  /** The reduced dtype. */
  readonly dtype: DType;
  readonly input: BoundProgram | null;
  readonly epilogue: BoundProgram | null;
  /** Per binding from 1: its dtype and whether it is written (the last: out). */
  readonly slots: readonly { readonly dtype: DType; readonly write: boolean }[];
}

/** Uniform words a stage reads (the template's included). */
export function stageWords(stage: ProgramStage): number {
  const words = (p: BoundProgram | null, dims: number) =>
    p === null ? 0 : p.scalars.length + p.views.length * (1 + dims);
  return REDUCE_WORDS + words(stage.input, 3) + words(stage.epilogue, 2);
}

/** Writes a stage's own uniform words, in the order {@link stageSource} reads them. */
export function stageParams(stage: ProgramStage, w: ParamWriter): void {
  for (const p of [stage.input, stage.epilogue]) {
    if (p === null) continue;
    p.program.scalars.forEach((dtype, k) => {
      if (dtype === 'int32') w.i(p.scalars[k]);
      else w.f(p.scalars[k]);
    });
    for (const v of p.views) {
      w.u(v.offset);
      for (const s of v.strides) w.i(s);
    }
  }
}

/**
 * WGSL of a bound program as a function of `coords` (u32 parameters naming the iterated
 * dims), reading its views from word `at` on; `first` names input 0 when it is a parameter
 * (the epilogue's reduced value) rather than a view.
 */
function programFn(
  name: string,
  p: BoundProgram,
  coords: readonly string[],
  at: number,
  first: { name: string; type: string } | null,
  used: Set<Helper>,
): { source: string; next: number } {
  const scalarWord = at;
  let w = at + p.scalars.length;
  const skip = first === null ? 0 : 1;
  const viewWord = p.views.map(() => {
    const word = w;
    w += 1 + coords.length;
    return word;
  });
  const io: ProgramIo = {
    read: (k) => {
      if (k < skip) return (first as { name: string }).name;
      const v = p.views[k - skip];
      const word = viewWord[k - skip];
      const terms = coords.map((c, d) => ` + i32(${c}) * pi(${word + 1 + d}u)`).join('');
      return `b${v.buffer}[u32(pi(${word}u)${terms})]`;
    },
    scalar: (k) => `${p.program.scalars[k] === 'int32' ? 'pi' : 'pf'}(${scalarWord + k}u)`,
    position: () => {
      throw new Error(`WebGPU backend: reduce program ${p.program.name} reads positions (E.index)`);
    },
  };
  const params = coords.map((c) => `${c}: u32`);
  if (first !== null) params.push(`${first.name}: ${first.type}`);
  const result = `r${p.program.outputs[0]}`;
  const out = wgslType(p.program.outputDtypes[0]);
  const source = `fn ${name}(${params.join(', ')}) -> ${out} {
${programLines(p.program, io, 'r', used).join('\n')}
  return ${result};
}`;
  return { source, next: w };
}

/** The shader of one stage (see {@link ProgramStage}). */
export function stageSource(stage: ProgramStage, serial: boolean): string {
  const t = wgslType(stage.dtype);
  const used = new Set<Helper>();
  const fns: string[] = [];
  const decls = stage.slots.map((s, k) =>
    storage(k + 1, k === stage.slots.length - 1 ? 'out' : `b${k + 1}`, wgslType(s.dtype), s.write),
  );
  let word = REDUCE_WORDS;
  let load: (j: string) => string;
  if (stage.input === null) {
    load = (j) => `b1[base + ${j} * inner]`;
  } else {
    const f = programFn('value', stage.input, ['o', 'r', 'i'], word, null, used);
    fns.push(f.source);
    word = f.next;
    load = (j) => `value(o, ${j}, i)`;
  }
  let store = stage.op === 'argmax' || stage.op === 'argmin' ? 'out[dst] = i32(s.i);' : 'out[dst] = s.v;';
  if (stage.epilogue !== null) {
    const f = programFn('finish', stage.epilogue, ['o', 'i'], word, { name: 'acc', type: t }, used);
    fns.push(f.source);
    store = 'out[dst] = finish(o, i, s.v);';
  }
  const io: ReduceIo = {
    decls: `${decls.join('\n')}\n${helperSource(used)}\n${fns.join('\n')}`,
    load,
    store,
  };
  return reduceTemplate(stage.op, stage.dtype, serial, io);
}

/** Rendered sources by input program, then epilogue program, then variant. */
const sources = new WeakMap<object, WeakMap<object, Map<string, string>>>();
/** Stands in for a missing program in the cache keys. */
const NONE = {};

/**
 * {@link stageSource}, cached per (input program, epilogue program, variant): one pipeline per
 * (op, programs, dtypes, bindings, schedule).
 */
export function cachedStageSource(stage: ProgramStage, serial: boolean): string {
  let byEpilogue = sources.get(stage.input?.program ?? NONE);
  if (byEpilogue === undefined) {
    byEpilogue = new WeakMap();
    sources.set(stage.input?.program ?? NONE, byEpilogue);
  }
  const epi = stage.epilogue?.program ?? NONE;
  let byVariant = byEpilogue.get(epi);
  if (byVariant === undefined) {
    byVariant = new Map();
    byEpilogue.set(epi, byVariant);
  }
  const views = (p: BoundProgram | null) => (p === null ? '-' : p.views.map((v) => v.buffer).join(','));
  const slots = stage.slots.map((s) => `${s.dtype}${s.write ? 'w' : 'r'}`).join(',');
  const key = `${stage.op}|${stage.dtype}|${serial}|${views(stage.input)}|${views(stage.epilogue)}|${slots}`;
  let src = byVariant.get(key);
  if (src === undefined) {
    src = stageSource(stage, serial);
    byVariant.set(key, src);
  }
  return src;
}

// ---- the dispatch -------------------------------------------------------------------------

/** A checked program operand of a reduction, its views on device buffers. */
export type GpuExpression = ProgramOf<GPUBuffer>;

/** A plain reduction's input: a contiguous `[outer, size, inner]` buffer of `dtype`. */
export interface GpuContiguous {
  readonly buffer: GPUBuffer;
  readonly dtype: DType;
}

/** Arguments of {@link reduceProgramStages}: checked by the backend already. */
export interface ProgramReduceArgs {
  readonly op: ReduceOp;
  readonly input: GpuExpression | GpuContiguous;
  readonly epilogue: GpuExpression | null;
  readonly out: GPUBuffer;
  readonly outer: number;
  readonly size: number;
  readonly inner: number;
}

/** Device limits the stages must respect. */
export interface ProgramReduceLimits {
  readonly maxWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerShaderStage: number;
}

/** One stage's slots, programs and bindings, before anything is encoded. */
interface Planned {
  readonly stage: ProgramStage;
  readonly bindings: Binding[];
}

/**
 * Binds the contiguous input (when the values are not a program's) and each distinct buffer
 * the programs read once (read-only), then `out` (written; the runtime reads an input that
 * aliases it from a copy).
 */
function plan(
  op: ReduceOp,
  dtype: DType,
  input: GpuExpression | null,
  contiguous: GPUBuffer | null,
  epilogue: GpuExpression | null,
  out: { buffer: GPUBuffer; dtype: DType },
): Planned {
  const bindings: Binding[] = [];
  const slots: { dtype: DType; write: boolean }[] = [];
  const bindOf = (buffer: GPUBuffer, dtypeOfBuffer: DType): number => {
    let k = bindings.findIndex((b) => b.buffer === buffer);
    if (k < 0) {
      bindings.push({ buffer, write: false });
      slots.push({ dtype: dtypeOfBuffer, write: false });
      k = bindings.length - 1;
    }
    return k + 1;
  };
  if (contiguous !== null) bindOf(contiguous, dtype);
  const bound = (e: GpuExpression | null, skip: number): BoundProgram | null =>
    e === null
      ? null
      : {
          program: e.program,
          scalars: e.scalars,
          views: e.views.map((v, k) => ({
            buffer: bindOf(v.buffer, e.program.inputs[k + skip]),
            offset: v.offset,
            strides: v.strides,
          })),
        };
  const boundInput = bound(input, 0);
  const boundEpilogue = bound(epilogue, 1);
  bindings.push({ buffer: out.buffer, write: true });
  slots.push({ dtype: out.dtype, write: true });
  return { stage: { op, dtype, input: boundInput, epilogue: boundEpilogue, slots }, bindings };
}

/**
 * Encodes a reduction as one dispatch, or two when the axis is cut into chunks (see
 * `reduceChunks`: the first stage writes partials to `scratch(n)`, the second reduces them and
 * applies the epilogue). Returns false, encoding nothing, when a stage would bind more storage
 * buffers than the device allows or need more uniform words than a slot holds (never for a
 * plain reduction): the caller then runs the programs as separate pointwise dispatches, each
 * with fewer bindings.
 */
export function reduceProgramStages(
  rt: Runtime,
  limits: ProgramReduceLimits,
  args: ProgramReduceArgs,
  scratch: (elements: number, dtype: DType) => GPUBuffer,
): boolean {
  const { op, epilogue, outer, size, inner } = args;
  const input = 'program' in args.input ? args.input : null;
  const x = 'program' in args.input ? null : args.input;
  const reduced = input?.program.outputDtypes[0] ?? (x as GpuContiguous).dtype;
  const arg = op === 'argmax' || op === 'argmin';
  const final = { buffer: args.out, dtype: arg ? 'int32' : (epilogue?.program.outputDtypes[0] ?? reduced) };
  const chunks = reduceChunks(op, outer * inner, size);
  const fits = (p: Planned) =>
    p.bindings.length <= limits.maxStorageBuffersPerShaderStage && stageWords(p.stage) <= PARAM_WORDS;
  const encode = (p: Planned, stageSize: number, stageChunks: number) =>
    dispatchReduce(
      rt,
      limits.maxWorkgroupsPerDimension,
      {
        source: cachedStageSource(p.stage, isSerial(stageSize, stageChunks)),
        label: input === null ? `reduce-${op}` : `reduce-${op} ${input.program.name}`,
        bindings: p.bindings,
        params: (w) => stageParams(p.stage, w),
      },
      outer,
      stageSize,
      inner,
      stageChunks,
    );
  if (chunks === 1) {
    const one = plan(op, reduced, input, x?.buffer ?? null, epilogue, final);
    if (!fits(one)) return false;
    encode(one, size, 1);
    return true;
  }
  // A placeholder partials buffer only sizes the plans; the real one is taken once both fit.
  const first = (partials: GPUBuffer) =>
    plan(op, reduced, input, x?.buffer ?? null, null, { buffer: partials, dtype: reduced });
  const second = (partials: GPUBuffer) => plan(op, reduced, null, partials, epilogue, final);
  const probe = {} as GPUBuffer;
  if (!fits(first(probe)) || !fits(second(probe))) return false;
  const partials = scratch(outer * chunks * inner, reduced);
  encode(first(partials), size, chunks);
  encode(second(partials), chunks, 1);
  return true;
}
