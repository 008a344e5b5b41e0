/**
 * Pointwise programs on wasm. Each program becomes bytecode for the block interpreter in
 * assembly/pointwise.ts (once per program and runtime, registers assigned by liveness) and,
 * for calls on this thread, also a small wasm function emitted at run time
 * (./pointwise-jit.ts) that replaces the interpreter's per-block loop. Each call writes a
 * descriptor of its views and runs on this thread, or split across the pool when large.
 *
 * Both designs of issue 13 were measured (`scripts/bench-pointwise.mjs`, 1 thread, process
 * CPU time on the busy 2-core VM, µs per call; figures in the README): the interpreter alone
 * matches the hand-written kernels on one- or two-instruction programs (add at 50k elements
 * 7.8 vs 9.1) but runs Adam's 13 instructions per element 2.7 times slower than the fused
 * `adamStep` (89 vs 33 at 50k), because each instruction loads and stores a block register;
 * a function per program keeps values in v128 locals and runs Adam at 32.6 vs 32.1. So the
 * emitted function does the arithmetic and the interpreter does what is the same for every
 * program (strided gathers, constants, blocks, partial blocks, in-place outputs) and the
 * threaded case, where workers (one instance each of the fixed module) cannot share a
 * function compiled on this thread.
 */
import {
  type BackendBuffer,
  checkPointwiseArgs,
  type DType,
  type Instr,
  instrOperands,
  type PointwiseArgs,
  type PointwiseProgram,
  type PreparedKernel,
  type StridedView,
} from '@nabla/core';
import { isLive, own, type WasmBuffer } from '../buffer.js';
import type { Runtime } from '../runtime.js';
import { compileJit, opName } from './pointwise-jit.js';
import { collapse } from './strided.js';

/** Input modes of the descriptor (assembly/pointwise.ts). */
const CONTIGUOUS = 0;
const STRIDED = 1;
const UNIFORM = 2;
const COPY = 3;

/** A program turned into bytecode in one runtime's memory. */
interface Compiled {
  /** Byte address of the bytecode. */
  readonly ptr: number;
  readonly nInstr: number;
  readonly nSlots: number;
  /**
   * The program's position instructions (`E.index`): each one's register is filled per block
   * with the elements' coordinates along `axis`, like an input's, before the block runs.
   */
  readonly positions: readonly { instr: number; axis: number }[];
  /** For each program input, the instruction that reads it (-1: the program ignores it). */
  readonly inputInstr: readonly number[];
  /** The inputs the program reads. */
  readonly usedInputs: readonly number[];
  /** Inputs that are themselves outputs: always copied into their register (see `modeOf`). */
  readonly inputIsOutput: readonly boolean[];
  /** Constants and scalars, filled once per call: instruction, dtype, constant or scalar index. */
  readonly fills: readonly { instr: number; dtype: DType; value: number; scalar: boolean }[];
  /** For each output, its instruction if it may be written straight into the output, else -1. */
  readonly directAt: readonly number[];
  /** For each input, the last instruction that reads it. */
  readonly inputLastUse: readonly number[];
  /** The program copies its only input to its only output (`contiguous()`, `copy`). */
  readonly passThrough: boolean;
  /** Instructions computed once per call (constants, scalars and what depends only on them). */
  readonly uniform: readonly boolean[];
  /** How many instructions run per block (0: nothing to compile). */
  readonly perBlockCount: number;
  /** Function-table index of the compiled block loop: 0 not yet compiled, -1 not available. */
  jit: number;
  /**
   * Layouts already planned for this program, newest first: a training loop repeats a
   * few shapes, and re-planning each call allocated about 1.4 KB of JavaScript objects.
   */
  readonly layouts: Layout[];
}

/** A planned layout and the shape and used inputs' strides it was planned for. */
interface Layout {
  readonly shape: readonly number[];
  readonly strides: readonly (readonly number[])[];
  readonly plan: Plan;
}

/** Layouts kept per program (the oldest is dropped). */
const MAX_LAYOUTS = 8;

interface State {
  readonly programs: Map<PointwiseProgram, Compiled>;
  readonly block: number;
  readonly maxDims: number;
  readonly opcodes: ReadonlyMap<string, number>;
  /** Compile a wasm function per program for calls on this thread (else interpret them). */
  jit: boolean;
  /** Why a program's function did not compile (it is interpreted). */
  readonly jitErrors: Map<PointwiseProgram, string>;
  desc: number;
  descBytes: number;
  /** Per-thread register scratch. */
  scratch: number[];
  scratchBytes: number;
}

/** Longest program (instructions per element) split across interpreting workers; see `pointwise`. */
const MAX_THREADED_INSTRUCTIONS = 4;

const states = new WeakMap<Runtime, State>();

function stateOf(rt: Runtime): State {
  let s = states.get(rt);
  if (!s) {
    const opcodes = new Map<string, number>();
    for (const [name, v] of rt.constants) if (name.startsWith('PW_')) opcodes.set(name.slice(3), v);
    s = {
      programs: new Map(),
      block: rt.constants.get('PW_BLOCK') as number,
      maxDims: rt.constants.get('PW_MAX_DIMS') as number,
      opcodes,
      jit: true,
      jitErrors: new Map(),
      desc: 0,
      descBytes: 0,
      scratch: [],
      scratchBytes: 0,
    };
    states.set(rt, s);
  }
  return s;
}

/** The interpreter's opcode name of an instruction (assembly/pointwise.ts). */
function opcodeName(ins: Instr, code: readonly Instr[]): string {
  if (ins.op === 'input' || ins.op === 'index' || ins.op === 'const' || ins.op === 'scalar')
    throw new Error(`wasm backend: instruction '${ins.op}' is not computed per block`);
  const name = opName(ins, code);
  return name === 'select' || name === 'copy' ? `${name}_any` : name;
}

/**
 * Bytecode for `program`. Instructions that depend only on constants and scalars run once per
 * call (setup code); the others once per block. Registers by liveness: a register is reused
 * once its value is dead; constants, scalars, setup values and outputs keep theirs for the
 * whole call, and inputs, all loaded before a block's first instruction, get theirs first.
 */
function compile(rt: Runtime, st: State, program: PointwiseProgram): Compiled {
  const code = program.instructions;
  const n = code.length;
  const lastUse = new Array<number>(n).fill(-1);
  const uniform = new Array<boolean>(n).fill(false);
  code.forEach((ins, i) => {
    for (const x of instrOperands(ins)) lastUse[x] = i;
    uniform[i] =
      ins.op === 'const' ||
      ins.op === 'scalar' ||
      (ins.op !== 'input' && ins.op !== 'index' && instrOperands(ins).every((x) => uniform[x]));
  });
  const pinned = new Set<number>(program.outputs);
  const slot = new Array<number>(n).fill(0);
  let nSlots = 0;
  code.forEach((ins, i) => {
    if (ins.op === 'input' || ins.op === 'index' || uniform[i]) slot[i] = nSlots++;
    if (uniform[i]) pinned.add(i);
  });
  const free: number[] = [];
  const setup: number[] = [];
  const perBlock: number[] = [];
  code.forEach((ins, i) => {
    if (ins.op === 'input' || ins.op === 'index' || ins.op === 'const' || ins.op === 'scalar') return;
    const name = opcodeName(ins, code);
    const op = st.opcodes.get(name);
    if (op === undefined) throw new Error(`wasm backend: pointwise ${program.name}: no kernel for '${name}'`);
    const [a = i, b = i, c = i] = instrOperands(ins);
    if (uniform[i]) {
      setup.push(op, i, a, b, c);
      return;
    }
    for (const x of new Set(instrOperands(ins)))
      if (lastUse[x] === i && !pinned.has(x)) free.push(slot[x] as number);
    slot[i] = free.length > 0 ? (free.pop() as number) : nSlots++;
    perBlock.push(op, i, a, b, c);
  });
  const words = [...setup, ...perBlock];
  const header = [n, nSlots, words.length / 5, program.outputs.length, setup.length / 5];
  const all = [...header, ...slot, ...words, ...program.outputs];
  const ptr = rt.allocator.alloc(all.length * 4);
  rt.i32.set(all, ptr >>> 2);
  const inputInstr = program.inputs.map(() => -1);
  const fills: Compiled['fills'][number][] = [];
  const positions: Compiled['positions'][number][] = [];
  code.forEach((ins, i) => {
    if (ins.op === 'input') inputInstr[ins.index] = i;
    else if (ins.op === 'index') positions.push({ instr: i, axis: ins.axis });
    else if (ins.op === 'const') fills.push({ instr: i, dtype: ins.dtype, value: ins.value, scalar: false });
    else if (ins.op === 'scalar') fills.push({ instr: i, dtype: ins.dtype, value: ins.index, scalar: true });
  });
  const inputIsOutput = inputInstr.map((i) => i >= 0 && program.outputs.includes(i));
  // an output computed per block may be written straight into its buffer (no copy), unless
  // an input in the same buffer is still read after it (checked per call)
  const directAt = program.outputs.map((o, j) =>
    uniform[o] || code[o]?.op === 'input' || code[o]?.op === 'index' || program.outputs.indexOf(o) !== j
      ? -1
      : o,
  );
  const inputLastUse = inputInstr.map((i) => (i >= 0 ? (lastUse[i] as number) : -1));
  const passThrough = n === 1 && program.outputs.length === 1 && code[0]?.op === 'input';
  return {
    ptr,
    nInstr: n,
    nSlots,
    positions,
    inputInstr,
    usedInputs: inputInstr.flatMap((instr, k) => (instr >= 0 ? [k] : [])),
    inputIsOutput,
    fills,
    directAt,
    inputLastUse,
    passThrough,
    uniform,
    perBlockCount: perBlock.length / 5,
    jit: 0,
    layouts: [],
  };
}

/**
 * The program's compiled block loop (compiled on first use), or 0 to interpret: where the
 * engine refuses to compile code at run time (a page's CSP without 'wasm-unsafe-eval'),
 * every call interprets.
 */
function jitIndex(rt: Runtime, program: PointwiseProgram, prog: Compiled): number {
  if (prog.jit === 0) {
    try {
      prog.jit = compileJit(rt, program, prog.uniform);
    } catch (err) {
      prog.jit = -1;
      stateOf(rt).jitErrors.set(program, (err as Error).message);
    }
  }
  return prog.jit > 0 ? prog.jit : 0;
}

/** Whether calls on the calling thread run compiled code (true) or the interpreter (false). */
export function setPointwiseJit(rt: Runtime, enabled: boolean): void {
  stateOf(rt).jit = enabled;
}

/** Whether run-time compiled code is enabled for calls on the calling thread. */
export function pointwiseJitEnabled(rt: Runtime): boolean {
  return stateOf(rt).jit;
}

/** @internal for tests: the programs whose compiled function failed, with the reason. */
export function pointwiseJitErrors(rt: Runtime): ReadonlyMap<PointwiseProgram, string> {
  return stateOf(rt).jitErrors;
}

/** Grows the descriptor block and the per-thread scratch to what this call needs. */
function reserve(rt: Runtime, st: State, descBytes: number, scratchBytes: number, threads: number): void {
  if (descBytes > st.descBytes) {
    if (st.desc) rt.allocator.free(st.desc, st.descBytes);
    st.descBytes = Math.max(descBytes, 2 * st.descBytes, 256);
    st.desc = rt.allocator.alloc(st.descBytes);
  }
  if (scratchBytes > st.scratchBytes) {
    for (const p of st.scratch) rt.allocator.free(p, st.scratchBytes);
    st.scratch = [];
    st.scratchBytes = Math.max(scratchBytes, 2 * st.scratchBytes);
  }
  while (st.scratch.length < threads) st.scratch.push(rt.allocator.alloc(st.scratchBytes));
}

const isRowMajor = (dims: readonly number[], strides: readonly number[]): boolean => {
  let acc = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    if (strides[d] !== acc) return false;
    acc *= dims[d] as number;
  }
  return true;
};

/**
 * A copy whose innermost read is strided but whose next dim is unit-stride (a transpose, as
 * `contiguous()` of `t()` or a permute): tiled, one [rows, cols] plane at a time, so each
 * cache line is read a few times instead of once per element.
 */
function isTransposed(dims: readonly number[], st: readonly number[]): boolean {
  const k = dims.length;
  if (k < 2 || k > 3 || st[k - 1] === 1 || st[k - 2] !== 1) return false;
  return (dims[k - 2] as number) * (dims[k - 1] as number) >= 256;
}

function copyTransposed(
  rt: Runtime,
  dims: readonly number[],
  st: readonly number[],
  x: PointwiseArgs['inputs'][number],
  out: WasmBuffer,
): void {
  const k = dims.length;
  const [R, C] = [dims[k - 2] as number, dims[k - 1] as number];
  const src = (x.buffer as WasmBuffer).ptr + x.offset * 4;
  const planes = k === 3 ? (dims[0] as number) : 1;
  const planeStride = k === 3 ? (st[0] as number) : 0;
  for (let p = 0; p < planes; p++) {
    rt.call('copy2d_tiled', src + p * planeStride * 4, out.ptr + p * R * C * 4, R, C, 1, st[k - 1] as number);
  }
}

/**
 * One call's layout, resolved from its shapes and strides alone: what `run` needs besides the
 * buffers and scalars, which are read on every run (a compiled program rebinds them).
 */
interface Plan {
  readonly prog: Compiled;
  readonly total: number;
  readonly dims: readonly number[];
  readonly strides: readonly (readonly number[])[];
  /** Per used input, its descriptor mode. */
  readonly modes: readonly number[];
  readonly threads: number;
  readonly jit: number;
  readonly descBytes: number;
  /** A transposing copy (see `copyTransposed`): no descriptor. */
  readonly transposed: boolean;
  /** Per position instruction, `[inner, size]` of its axis in the uncollapsed shape. */
  readonly extents: readonly (readonly [number, number])[];
}

/**
 * Checks a call (core's argument checks, then that its buffers are this backend's and live) and
 * resolves its layout; null when there is nothing to run (no elements).
 */
function plan(rt: Runtime, args: PointwiseArgs): Plan | null {
  checkPointwiseArgs(args, 'wasm');
  const { program, shape, inputs } = args;
  for (let k = 0; k < inputs.length; k++) {
    const b = (inputs[k] as StridedView).buffer;
    if (!isLive(b)) own(b, `pointwise ${program.name} input ${k}`);
  }
  for (let j = 0; j < args.outputs.length; j++) {
    const o = args.outputs[j] as BackendBuffer;
    if (!isLive(o)) own(o, `pointwise ${program.name} output ${j}`);
  }
  let total = 1;
  for (let d = 0; d < shape.length; d++) total *= shape[d] as number;
  if (total === 0) return null;

  const st = stateOf(rt);
  let prog = st.programs.get(program);
  if (!prog) {
    prog = compile(rt, st, program);
    st.programs.set(program, prog);
  }
  const known = knownLayout(prog, shape, inputs);
  if (known) return known;
  const planned = layout(rt, st, program, prog, args);
  const used = prog.usedInputs;
  prog.layouts.unshift({
    shape: [...shape],
    strides: used.map((k) => [...(inputs[k] as PointwiseArgs['inputs'][number]).strides]),
    plan: planned,
  });
  if (prog.layouts.length > MAX_LAYOUTS) prog.layouts.pop();
  return planned;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The plan made earlier for this shape and these strides of the used inputs, if any. */
function knownLayout(prog: Compiled, shape: readonly number[], inputs: PointwiseArgs['inputs']): Plan | null {
  const used = prog.usedInputs;
  search: for (const entry of prog.layouts) {
    if (!sameNumbers(entry.shape, shape)) continue;
    for (let u = 0; u < used.length; u++)
      if (!sameNumbers(entry.strides[u] as number[], (inputs[used[u] as number] as StridedView).strides))
        continue search;
    return entry.plan;
  }
  return null;
}

/** Resolves the layout of a validated call with at least one element. */
function layout(
  rt: Runtime,
  st: State,
  program: PointwiseProgram,
  prog: Compiled,
  args: PointwiseArgs,
): Plan {
  const { shape, inputs } = args;
  let total = 1;
  for (let d = 0; d < shape.length; d++) total *= shape[d] as number;
  const used = prog.usedInputs;
  const viewStrides: (readonly number[])[] = [];
  for (const k of used) viewStrides.push((inputs[k] as PointwiseArgs['inputs'][number]).strides);
  const { dims, strides } = collapse(shape, viewStrides);
  if (dims.length === 0) {
    dims.push(1);
    for (const s of strides) s.push(0);
  }
  // an element's coordinate along an axis, from its flat (row-major output) index i:
  // floor(i / inner) % size, with the extents of the shape before collapsing
  const extents = prog.positions.map(({ axis }): [number, number] => {
    let inner = 1;
    for (let d = axis + 1; d < shape.length; d++) inner *= shape[d] as number;
    return [inner, shape[axis] as number];
  });
  if (prog.passThrough && isTransposed(dims, strides[0] as number[]))
    return {
      prog,
      total,
      dims,
      strides,
      modes: [],
      threads: 1,
      jit: 0,
      descBytes: 0,
      transposed: true,
      extents,
    };
  const nd = dims.length;
  if (nd > st.maxDims)
    throw new Error(`wasm backend: pointwise ${program.name}: more than ${st.maxDims} dims after collapsing`);
  const modes: number[] = [];
  for (let u = 0; u < used.length; u++) {
    const s = strides[u] as number[];
    let zero = true;
    for (let d = 0; d < nd; d++) if (s[d] !== 0) zero = false;
    const k = used[u] as number;
    modes.push(zero ? UNIFORM : !isRowMajor(dims, s) ? STRIDED : prog.inputIsOutput[k] ? COPY : CONTIGUOUS);
  }

  // Workers interpret (the compiled function lives in this thread's instance only): split a
  // large call across threads when interpreting costs little more than the compiled loop
  // (measured: equal at 1 instruction per element, 1.15x at 2, 2.7x for a 13-instruction
  // Adam update, so two interpreting threads lose to one compiled thread beyond a few).
  const threads =
    total >= rt.threading.minParallelElements && (!st.jit || prog.perBlockCount <= MAX_THREADED_INSTRUCTIONS)
      ? Math.min(rt.threads, Math.ceil(total / st.block))
      : 1;
  const descWords =
    3 +
    nd +
    1 +
    used.length * (3 + nd) +
    1 +
    3 * prog.positions.length +
    1 +
    2 * prog.fills.length +
    2 * args.outputs.length;
  const scratchBytes = (prog.nInstr + st.maxDims) * 4 + 15 + 15 + prog.nSlots * st.block * 4;
  if (descWords * 4 > st.descBytes || scratchBytes > st.scratchBytes || st.scratch.length < threads)
    reserve(rt, st, descWords * 4, scratchBytes, threads);
  const jit = threads === 1 && st.jit && prog.perBlockCount > 0 ? jitIndex(rt, program, prog) : 0;
  return {
    prog,
    total,
    dims,
    strides,
    modes,
    threads,
    jit,
    descBytes: descWords * 4,
    transposed: false,
    extents,
  };
}

/**
 * Writes the call's descriptor at `desc` (layout in assembly/pointwise.ts) with the buffers
 * and scalars in `args` now, and runs it on this thread or split across the pool.
 */
function run(rt: Runtime, p: Plan, args: PointwiseArgs, desc: number): void {
  const { prog, dims, strides, modes } = p;
  const { inputs, outputs } = args;
  if (p.transposed) {
    copyTransposed(rt, dims, strides[0] as number[], inputs[0]!, outputs[0] as WasmBuffer);
    return;
  }
  const nd = dims.length;
  const used = prog.usedInputs;
  const i32 = rt.i32;
  const f32 = rt.f32;
  let w = desc >>> 2;
  i32[w++] = prog.ptr;
  i32[w++] = p.jit;
  i32[w++] = nd;
  for (let d = 0; d < nd; d++) i32[w++] = dims[d] as number;
  i32[w++] = used.length;
  for (let u = 0; u < used.length; u++) {
    const k = used[u] as number;
    const v = inputs[k] as PointwiseArgs['inputs'][number];
    const s = strides[u] as readonly number[];
    i32[w++] = prog.inputInstr[k] as number;
    i32[w++] = modes[u] as number;
    i32[w++] = (v.buffer as WasmBuffer).ptr + v.offset * 4;
    for (let d = 0; d < nd; d++) i32[w++] = s[d] as number;
  }
  const positions = prog.positions;
  i32[w++] = positions.length;
  for (let q = 0; q < positions.length; q++) {
    const [inner, size] = p.extents[q] as readonly [number, number];
    i32[w++] = (positions[q] as Compiled['positions'][number]).instr;
    i32[w++] = inner;
    i32[w++] = size;
  }
  const fills = prog.fills;
  i32[w++] = fills.length;
  for (let f = 0; f < fills.length; f++) {
    const fill = fills[f] as Compiled['fills'][number];
    i32[w++] = fill.instr;
    const v = fill.scalar ? (args.scalars[fill.value] as number) : fill.value;
    if (fill.dtype === 'float32') f32[w++] = v;
    else i32[w++] = Math.trunc(v) | 0; // core's cast: truncate, wrap; NaN and ±∞ give 0
  }
  for (let j = 0; j < outputs.length; j++) {
    const o = outputs[j] as WasmBuffer;
    const at = prog.directAt[j] as number;
    let direct = at >= 0;
    for (let k = 0; direct && k < inputs.length; k++)
      if (
        (inputs[k] as PointwiseArgs['inputs'][number]).buffer === o &&
        (prog.inputLastUse[k] as number) > at
      )
        direct = false;
    i32[w++] = o.ptr;
    i32[w++] = direct ? 1 : 0;
  }

  const st = stateOf(rt);
  const { total, threads } = p;
  if (threads === 1) {
    rt.call('pointwise', desc, st.scratch[0] as number, 0, total);
    return;
  }
  const per = Math.ceil(total / threads / st.block) * st.block;
  const jobs: number[][] = [];
  for (let t = 0, s = 0; s < total; t++, s += per)
    jobs.push([desc, st.scratch[t] as number, s, Math.min(total, s + per)]);
  rt.parallel('pointwise', jobs);
}

/** Evaluates `args.program` over `args.shape` (see core's `PointwiseArgs`). */
export function pointwise(rt: Runtime, args: PointwiseArgs): void {
  const p = plan(rt, args);
  if (p) run(rt, p, args, stateOf(rt).desc);
}

/**
 * A pointwise call resolved once for a compiled program: its layout is planned and its
 * descriptor has a block of its own; each run rewrites the buffers and scalars and runs.
 */
export function preparePointwise(rt: Runtime, args: PointwiseArgs): PreparedKernel {
  const p = plan(rt, args);
  if (!p) return { run: () => {}, release: () => {} };
  const desc = p.descBytes > 0 ? rt.allocator.alloc(p.descBytes) : 0;
  let released = false;
  return {
    run: () => run(rt, p, args, desc),
    release: () => {
      if (released) return;
      released = true;
      if (desc) rt.allocator.free(desc, p.descBytes);
    },
  };
}
