/**
 * The pointwise kernel on WebGPU: renders a program (core's kernels-as-data format) to WGSL,
 * one `let` per instruction, and dispatches it one invocation per element. This file owns the
 * shader text, the uniform layout and the packing of the uniform words, so the layout is
 * written down once ({@link layoutOf}).
 *
 * - Inputs are read in one of three generated modes: `linear` (contiguous: `offset + i`),
 *   `scalar` (every stride 0: `offset`) or `strided` (coordinates from the shape and the
 *   input's strides in the uniform block). Shapes and strides are collapsed first (size-1
 *   dims dropped, neighbours every input walks contiguously merged), so most calls take the
 *   linear path; at most {@link MAX_RANK} strided dims remain.
 * - Per-call scalars travel in the uniform block, so one pipeline serves every value.
 * - Each distinct buffer is bound once. An output that is also an input (an in-place update
 *   through the identity view) is bound read_write and read before it is written: WebGPU
 *   forbids binding a buffer writable and readable at once.
 * - Every transcendental function goes through {@link MATH}, the one table that maps the
 *   expression language's float functions to WGSL.
 */
import type { DType, Instr, PointwiseArgs, PointwiseProgram, StridedView, UnaryFn } from '@nabla/core';
import type { Binding, Runtime } from '../runtime.js';
import { PARAM_WORDS } from '../runtime.js';
import { flatEntry, grid, PARAMS_HEADER, WG, wgslType } from './wgsl.js';
import { WGSL_MATH } from './wgsl-math.js';

/** Highest rank (after collapsing) a strided input may have. */
export const MAX_RANK = 6;

// ---- the math table -------------------------------------------------------------------

/**
 * WGSL of each float32 unary function, applied to the expression `x`. Software drivers' exp and
 * log approximations may turn NaN into ±inf, and leave edge cases unspecified, so the edges
 * are spelled out; NaN in gives NaN out (see {@link unaryF32}).
 */
const MATH: Record<UnaryFn, (x: string) => string> = {
  neg: (x) => `-${x}`,
  abs: (x) => `abs(${x})`,
  // Keeps NaN and signed zero, like the reference.
  sign: (x) => `select(select(select(${x}, -1.0, ${x} < 0.0), 1.0, ${x} > 0.0), ${x}, isNan(${x}))`,
  // The accurate functions of wgsl-math.ts (a few ulp; drivers' builtins are off by up to
  // 60 ulp for exp and 1700 for log on SwiftShader, and tanh gives NaN above 88 there).
  exp: (x) => `nb_exp(${x})`,
  log: (x) => `nb_log(${x})`,
  log1p: (x) => `nb_log1p(${x})`,
  sqrt: (x) => `select(sqrt(${x}), f32Nan(), ${x} < 0.0)`,
  rsqrt: (x) => `select(1.0 / sqrt(${x}), f32Nan(), ${x} < 0.0)`,
  recip: (x) => `1.0 / ${x}`,
  // tanh saturates to ±1 in float32 well before 15; clamping keeps exp-based builtins finite.
  tanh: (x) => `nb_tanh(${x})`,
  erf: (x) => `nb_erf(${x})`,
  floor: (x) => `floor(${x})`,
};

/** Functions of {@link MATH} that are exact without a NaN guard. */
const NAN_SAFE = new Set<UnaryFn>(['neg', 'abs', 'sign', 'floor']);

/** Helpers the table and the binary ops call; emitted only when a program uses them. */
const HELPERS = {
  // WGSL's pow is undefined for negative bases and 0^0; this follows Math.pow.
  npow: `
fn npow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (isNan(a) || isNan(b)) { return f32Nan(); }
  if (a == 0.0) { return select(f32Inf(), 0.0, b > 0.0); }
  // Math.pow's ±1 ** ±inf is NaN (IEEE's pow says 1).
  if (abs(a) == 1.0 && (bitcast<u32>(b) & 0x7fffffffu) == 0x7f800000u) { return f32Nan(); }
  if (a < 0.0) {
    if (floor(b) != b) {
      // A negative base needs an integer exponent, except -inf: (-inf)^b is inf or 0.
      if ((bitcast<u32>(a) & 0x7fffffffu) == 0x7f800000u) { return select(0.0, f32Inf(), b > 0.0); }
      return f32Nan();
    }
    let r = pow(-a, b);
    return select(r, -r, abs(b % 2.0) == 1.0);
  }
  return pow(a, b);
}`,
  math: WGSL_MATH,
  // float32 to int32 as the reference: truncate, wrap modulo 2^32, NaN and ±inf give 0.
  f2i: `
fn f2i(x: f32) -> i32 {
  if ((bitcast<u32>(x) & 0x7fffffffu) >= 0x7f800000u) { return 0i; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  return bitcast<i32>(u32(t - 4294967296.0 * floor(t / 4294967296.0)));
}`,
} as const;

/** A helper function the rendered instructions may call; see {@link helperSource}. */
export type Helper = keyof typeof HELPERS;

/** WGSL of the helpers `used` (each once): goes at module scope, beside the entry point. */
export function helperSource(used: ReadonlySet<Helper>): string {
  return [...used].map((h) => HELPERS[h]).join('\n');
}

function unaryF32(fn: UnaryFn, x: string, use: (h: Helper) => void): string {
  if (fn === 'exp' || fn === 'log' || fn === 'log1p' || fn === 'tanh' || fn === 'erf') use('math');
  const e = MATH[fn](x);
  return NAN_SAFE.has(fn) ? e : `select(${e}, ${x}, isNan(${x}))`;
}

/** Binary functions that are one WGSL operator on float32 and int32 alike. */
const ARITHMETIC: Partial<Record<string, string>> = { add: '+', sub: '-', mul: '*' };
const COMPARE: Record<string, string> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

/** A WGSL literal of a constant already converted to its dtype. */
function literal(v: number, dtype: DType): string {
  if (dtype === 'int32') return `bitcast<i32>(${v >>> 0}u)`;
  if (Number.isNaN(v)) return 'f32Nan()';
  if (!Number.isFinite(v)) return v > 0 ? 'f32Inf()' : '-f32Inf()';
  if (Object.is(v, -0)) return '-0.0f';
  return `${String(v)}f`;
}

function instrExpr(
  ins: Instr,
  v: (i: number) => string,
  read: (k: number) => string,
  scalar: (k: number) => string,
  position: (axis: number) => string,
  dtypeOf: (i: number) => DType,
  use: (h: Helper) => void,
): string {
  switch (ins.op) {
    case 'input':
      return read(ins.index);
    case 'index':
      return position(ins.axis);
    case 'scalar':
      return scalar(ins.index);
    case 'const':
      return literal(ins.dtype === 'int32' ? ins.value | 0 : Math.fround(ins.value), ins.dtype);
    case 'unary': {
      const x = v(ins.x);
      if (ins.dtype === 'float32') return unaryF32(ins.fn, x, use);
      if (ins.fn === 'neg') return `-${x}`;
      if (ins.fn === 'abs') return `abs(${x})`;
      if (ins.fn === 'sign') return `sign(${x})`;
      throw new Error(`WebGPU backend: ${ins.fn} has no int32 meaning`);
    }
    case 'binary': {
      const a = v(ins.a);
      const b = v(ins.b);
      const cmp = COMPARE[ins.fn];
      if (cmp !== undefined) {
        // Float operands decide NaN explicitly (compilers may assume finite math): only `ne`
        // holds when either side is NaN.
        if (dtypeOf(ins.a) === 'int32') return `select(0i, 1i, ${a} ${cmp} ${b})`;
        const nan = `isNan(${a}) || isNan(${b})`;
        return ins.fn === 'ne'
          ? `select(0i, 1i, ${a} != ${b} || ${nan})`
          : `select(0i, 1i, ${a} ${cmp} ${b} && !(${nan}))`;
      }
      // + - * are WGSL's operators on either dtype
      const op = ARITHMETIC[ins.fn];
      if (op !== undefined) return `${a} ${op} ${b}`;
      if (ins.dtype === 'float32') {
        switch (ins.fn) {
          case 'pow':
            use('npow');
            return `npow(${a}, ${b})`;
          case 'max':
            return `select(select(${b}, ${a}, ${a} > ${b}), f32Nan(), isNan(${a}) || isNan(${b}))`;
          case 'min':
            return `select(select(${b}, ${a}, ${a} < ${b}), f32Nan(), isNan(${a}) || isNan(${b}))`;
          case 'div':
            return `${a} / ${b}`;
        }
      } else if (ins.fn === 'div') {
        // Truncating division; x / 0 is 0 (WGSL would return x).
        return `select(${a} / ${b}, 0i, ${b} == 0i)`;
      } else if (ins.fn === 'max' || ins.fn === 'min') {
        return `${ins.fn}(${a}, ${b})`;
      }
      throw new Error(`WebGPU backend: ${ins.fn} has no ${ins.dtype} meaning`);
    }
    case 'select':
      return `select(${v(ins.b)}, ${v(ins.a)}, ${v(ins.cond)} != 0i)`;
    case 'cast':
      if (ins.dtype === 'float32') return `f32(${v(ins.x)})`;
      use('f2i');
      return `f2i(${v(ins.x)})`;
  }
}

/** How rendered instructions reach their operands (WGSL expressions). */
export interface ProgramIo {
  /** The value of input `k`. */
  readonly read: (k: number) => string;
  /** The value of scalar `k`. */
  readonly scalar: (k: number) => string;
  /** The coordinate along `axis` (programs that read positions only). */
  readonly position: (axis: number) => string;
}

/**
 * A program's instructions as WGSL statements, one `let <prefix><i>` per instruction (so the
 * value of instruction `i` is `<prefix><i>`); the helpers they call are added to `used`. The
 * one renderer of the expression language on WebGPU: the pointwise and reduction kernels
 * both splice its lines into their shaders.
 */
export function programLines(
  program: PointwiseProgram,
  io: ProgramIo,
  prefix: string,
  used: Set<Helper>,
): string[] {
  const v = (i: number) => `${prefix}${i}`;
  const dtypeOf = (i: number) => program.instructions[i].dtype;
  const use = (h: Helper) => used.add(h);
  return program.instructions.map(
    (ins, i) =>
      `  let ${v(i)}: ${wgslType(ins.dtype)} = ${instrExpr(ins, v, io.read, io.scalar, io.position, dtypeOf, use)};`,
  );
}

// ---- layout of one dispatch -----------------------------------------------------------

type Mode = 'linear' | 'scalar' | 'strided';

/** Where each value lives in the uniform block; both the WGSL and the packing read this. */
interface Layout {
  /** Word of the element count; the rank and {@link MAX_RANK} shape words follow when strided. */
  readonly strided: boolean;
  readonly shapeWord: number;
  readonly scalarWord: number;
  /** Per input: its offset word; its strides follow when its mode is strided. */
  readonly inputWord: readonly number[];
  /** Per `E.index` axis the program reads: the words of its `[inner, size]` extents. */
  readonly axisWord: ReadonlyMap<number, number>;
  readonly words: number;
}

/** The axes the program's `E.index` nodes read, each once, in program order. */
function indexAxes(program: PointwiseProgram): number[] {
  const axes = new Set<number>();
  for (const ins of program.instructions) if (ins.op === 'index') axes.add(ins.axis);
  return [...axes];
}

function layoutOf(scalars: number, modes: readonly Mode[], axes: readonly number[]): Layout {
  const strided = modes.includes('strided');
  const shapeWord = 2;
  const scalarWord = strided ? shapeWord + MAX_RANK : 1;
  let w = scalarWord + scalars;
  const inputWord = modes.map((m) => {
    const at = w;
    w += m === 'strided' ? 1 + MAX_RANK : 1;
    return at;
  });
  const axisWord = new Map<number, number>();
  for (const axis of axes) {
    axisWord.set(axis, w);
    w += 2;
  }
  return { strided, shapeWord, scalarWord, inputWord, axisWord, words: w };
}

/** Drops size-1 dims and merges neighbours that every input walks contiguously. */
export function collapse(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((st, j) => outStrides[j][last] === st[d] * shape[d])) {
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

// ---- the shader -------------------------------------------------------------------------

/** Buffer binding of each input and output (bindings count from 1), and which are written. */
interface BindingPlan {
  readonly input: readonly number[];
  readonly output: readonly number[];
  /** Per binding: its dtype and whether it is written. */
  readonly slots: readonly { dtype: DType; write: boolean }[];
}

function renderSource(program: PointwiseProgram, modes: readonly Mode[], plan: BindingPlan): string {
  const layout = layoutOf(program.scalars.length, modes, indexAxes(program));
  const used = new Set<Helper>();
  const decls = plan.slots.map(
    (s, i) =>
      `@group(0) @binding(${i + 1}) var<storage, ${s.write ? 'read_write' : 'read'}> b${i + 1}: array<${wgslType(s.dtype)}>;`,
  );
  const lines: string[] = [];
  if (layout.strided) {
    lines.push('  var rem = gid;');
    modes.forEach((m, k) => {
      if (m === 'strided') lines.push(`  var o${k} = pi(${layout.inputWord[k]}u);`);
    });
    lines.push(`  for (var d = i32(pu(1u)) - 1; d >= 0; d--) {`);
    lines.push(`    let s = pu(${layout.shapeWord}u + u32(d));`);
    lines.push('    let c = i32(rem % s);');
    lines.push('    rem = rem / s;');
    modes.forEach((m, k) => {
      if (m === 'strided') lines.push(`    o${k} += c * pi(${layout.inputWord[k] + 1}u + u32(d));`);
    });
    lines.push('  }');
  }
  const read = (k: number) => {
    const at = layout.inputWord[k];
    const index =
      modes[k] === 'linear' ? `pu(${at}u) + gid` : modes[k] === 'scalar' ? `pu(${at}u)` : `u32(o${k})`;
    return `b${plan.input[k]}[${index}]`;
  };
  const scalar = (k: number) => `${program.scalars[k] === 'int32' ? 'pi' : 'pf'}(${layout.scalarWord + k}u)`;
  // gid is the element's flat index in the (row-major) output: its coordinate along an axis
  // is one division and one remainder by that axis's extents in the uncollapsed shape
  const position = (axis: number) => {
    const at = layout.axisWord.get(axis) as number;
    return `i32((gid / pu(${at}u)) % pu(${at + 1}u))`;
  };
  lines.push(...programLines(program, { read, scalar, position }, 'v', used));
  // Every value is computed (and every input read) before the first store: in-place safe.
  program.outputs.forEach((i, j) => {
    lines.push(`  b${plan.output[j]}[gid] = v${i};`);
  });
  return `${PARAMS_HEADER}
${decls.join('\n')}
${helperSource(used)}
${flatEntry(WG)}
  if (gid >= pu(0u)) { return; }
${lines.join('\n')}
}
`;
}

/** Rendered sources by program, then by input modes and binding plan. */
const sources = new WeakMap<PointwiseProgram, Map<string, string>>();

function sourceFor(program: PointwiseProgram, modes: readonly Mode[], plan: BindingPlan): string {
  let byVariant = sources.get(program);
  if (byVariant === undefined) {
    byVariant = new Map();
    sources.set(program, byVariant);
  }
  const key = `${modes.join(',')}|${plan.input.join(',')}|${plan.output.join(',')}`;
  let src = byVariant.get(key);
  if (src === undefined) {
    src = renderSource(program, modes, plan);
    byVariant.set(key, src);
  }
  return src;
}

// ---- the dispatch -------------------------------------------------------------------------

/** A checked operand of {@link dispatchPointwise}. */
export interface GpuOperand {
  readonly gpu: GPUBuffer;
  readonly dtype: DType;
  readonly size: number;
}

/** Arguments of {@link dispatchPointwise}: core's `PointwiseArgs` with buffers resolved. */
export interface PointwiseDispatch extends Omit<PointwiseArgs, 'inputs' | 'outputs'> {
  readonly inputs: readonly (Omit<StridedView, 'buffer'> & { readonly buffer: GpuOperand })[];
  readonly outputs: readonly GpuOperand[];
}

/** True when a collapsed view reads element i at i: offset 0 and row-major strides. */
function isIdentity(shape: readonly number[], offset: number, strides: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (strides[d] !== expected) return false;
    expected *= shape[d];
  }
  return offset === 0;
}

/** Device limits a dispatch must respect. */
export interface PointwiseLimits {
  readonly maxWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerShaderStage: number;
}

/**
 * Encodes one pointwise program over `shape` into the runtime's command stream. The arguments
 * passed core's `checkPointwiseArgs`; what is checked here are this device's limits.
 */
export function dispatchPointwise(runtime: Runtime, limits: PointwiseLimits, args: PointwiseDispatch): void {
  const { program } = args;
  const name = `pointwise ${program.name}`;
  let total = 1;
  for (const s of args.shape) total *= s;
  if (total === 0) return;

  const c = collapse(
    args.shape,
    args.inputs.map((v) => v.strides),
  );
  if (c.shape.length > MAX_RANK) {
    throw new Error(
      `WebGPU backend: ${name} reads a view of shape [${args.shape.join(', ')}] that has rank ${c.shape.length} after ` +
        `merging contiguous dims; at most ${MAX_RANK} strided dims are supported (call .contiguous() first)`,
    );
  }
  const rankShape = c.shape.length === 0 ? [1] : c.shape;
  const modes = args.inputs.map((_, k) => (c.shape.length === 0 ? 'scalar' : modeOf(c.shape, c.strides[k])));

  // One binding per distinct buffer; outputs are written, an input sharing one reads it there.
  const slots: { gpu: GPUBuffer; dtype: DType; write: boolean }[] = [];
  const slotOf = (b: GpuOperand, write: boolean): number => {
    let i = slots.findIndex((s) => s.gpu === b.gpu);
    if (i < 0) {
      slots.push({ gpu: b.gpu, dtype: b.dtype, write });
      i = slots.length - 1;
    } else if (write) {
      if (slots[i].write) throw new Error(`WebGPU backend: ${name} writes one buffer as two outputs`);
      slots[i].write = true;
    }
    return i + 1;
  };
  const output = args.outputs.map((o) => slotOf(o, true));
  const input = args.inputs.map((v) => slotOf(v.buffer, false));
  input.forEach((b, k) => {
    const v = args.inputs[k];
    if (slots[b - 1].write && !isIdentity(c.shape, v.offset, c.strides[k])) {
      throw new Error(
        `WebGPU backend: ${name} input ${k} shares a buffer with an output but is not read through the identity view`,
      );
    }
    if (slots[b - 1].dtype !== v.buffer.dtype)
      throw new Error(`WebGPU backend: ${name} input ${k} shares a buffer with an output of another dtype`);
  });
  if (slots.length > limits.maxStorageBuffersPerShaderStage)
    throw new Error(
      `WebGPU backend: ${name} binds ${slots.length} distinct buffers; this device allows ` +
        `${limits.maxStorageBuffersPerShaderStage} storage buffers per shader (split the program)`,
    );
  const plan: BindingPlan = { input, output, slots };
  const axes = indexAxes(program);
  const layout = layoutOf(program.scalars.length, modes, axes);
  if (layout.words > PARAM_WORDS) {
    throw new Error(
      `WebGPU backend: ${name} needs ${layout.words} uniform words (${program.scalars.length} scalars, ` +
        `${modes.filter((m) => m === 'strided').length} strided inputs); at most ${PARAM_WORDS} fit`,
    );
  }
  const bindings: Binding[] = slots.map((s) => ({ buffer: s.gpu, write: s.write }));
  runtime.dispatch({
    source: sourceFor(program, modes, plan),
    label: name,
    bindings,
    params: (w) => {
      w.u(total);
      if (layout.strided) {
        w.u(rankShape.length);
        for (let d = 0; d < MAX_RANK; d++) w.u(rankShape[d] ?? 1);
      }
      program.scalars.forEach((dtype, k) => {
        if (dtype === 'int32') w.i(args.scalars[k]);
        else w.f(args.scalars[k]);
      });
      args.inputs.forEach((v, k) => {
        w.u(v.offset);
        if (modes[k] === 'strided') for (let d = 0; d < MAX_RANK; d++) w.i(c.strides[k][d] ?? 0);
      });
      for (const axis of axes) {
        let inner = 1;
        for (let d = axis + 1; d < args.shape.length; d++) inner *= args.shape[d];
        w.u(inner);
        w.u(args.shape[axis]);
      }
    },
    groups: grid(Math.ceil(total / WG), limits.maxWorkgroupsPerDimension),
  });
}
