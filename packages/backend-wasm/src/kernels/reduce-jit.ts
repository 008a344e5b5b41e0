/**
 * Reductions of pointwise programs (core's `ReduceArgs.input`/`.epilogue`) as one wasm function
 * per (op, input program, epilogue program), emitted at run time with the pointwise JIT's
 * instruction emitter: for each output `[o, i]` it evaluates the input program four `r` at a
 * time in v128 locals, folds them into an accumulator, then runs the epilogue on the reduced
 * value and stores it. No intermediate array exists and nothing is allocated per call.
 *
 * Accumulation matches the cpu backend's (and the plain float32 sum's float64 totals):
 * float32 sums add each float32 value into float64 accumulators and round once at the end;
 * int32 sums wrap; max/min propagate NaN (`f32x4.max`/`min`). The function runs on the calling
 * thread: these reductions are small (a row count over a few hundred labels, a loss's mean).
 */
import { type DType, instrOperands, type PointwiseProgram, type ReduceOp } from '@nabla/core';
import type { Runtime } from '../runtime.js';
import { emitInstr, I32, instantiate, V128, WasmFn } from './pointwise-jit.js';
import { SIMD_OP } from './simd-opcodes.js';

const F32 = 0x7d;

/** The op's identity, as 32-bit lane bits (what a masked-off lane contributes). */
const IDENTITY: Record<'sum' | 'max' | 'min', Record<'f32' | 'i32', number>> = {
  sum: { f32: 0, i32: 0 },
  max: { f32: 0xff800000, i32: 0x80000000 }, // -Infinity, INT32_MIN
  min: { f32: 0x7f800000, i32: 0x7fffffff }, // +Infinity, INT32_MAX
};
/** SIMD opcodes folding a vector into the accumulator (float32 sums use float64 instead). */
const FOLD: Record<'sum' | 'max' | 'min', Record<'f32' | 'i32', number>> = {
  sum: { f32: 0xe4, i32: 0xae },
  max: { f32: 0xe9, i32: 0xb8 },
  min: { f32: 0xe8, i32: 0xb6 },
};

const LOW_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
const PAIRS = [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11];
const LANE0 = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3];

/**
 * The compiled reduction. Arguments, all numbers (addresses and strides in bytes):
 * `out, outer, size, inner`, then per input program input `base, o, r, i` strides, per
 * epilogue input after the first `base, o, i` strides, then the input's and the epilogue's
 * scalars.
 */
export type ReduceJitFn = (...args: number[]) => void;

interface Entry {
  readonly run: ReduceJitFn | null;
  /** Why it did not compile (the caller falls back). */
  readonly error?: string;
}

const cache = new WeakMap<Runtime, Map<string, Entry>>();

const bits = new Uint32Array(1);
const bitsF32 = new Float32Array(bits.buffer);
const laneBits = (value: number, dtype: DType) => {
  if (dtype === 'int32') return value | 0;
  bitsF32[0] = value;
  return bits[0] as number;
};

/** Which instructions depend only on constants and scalars (computed once per call). */
function uniformOf(program: PointwiseProgram): boolean[] {
  const uniform: boolean[] = [];
  program.instructions.forEach((ins, i) => {
    if (ins.op === 'index') throw new Error(`wasm backend: reduce program ${program.name} reads a position`);
    uniform[i] =
      ins.op === 'const' ||
      ins.op === 'scalar' ||
      (ins.op !== 'input' && instrOperands(ins).every((x) => uniform[x]));
  });
  return uniform;
}
/** @internal for tests: why reductions did not compile, keyed by op and programs. */
export function reduceJitErrors(rt: Runtime): Map<string, string> {
  const errors = new Map<string, string>();
  for (const [key, entry] of cache.get(rt) ?? []) if (entry.error !== undefined) errors.set(key, entry.error);
  return errors;
}

/**
 * The compiled reduction of `input` (then `epilogue`) by `op`, compiled on first use; null
 * where it cannot be (the engine refuses run-time code, a missing helper): the caller then
 * takes the pointwise-kernel path.
 */
export function reduceJit(
  rt: Runtime,
  op: Extract<ReduceOp, 'sum' | 'max' | 'min'>,
  input: PointwiseProgram,
  epilogue: PointwiseProgram | undefined,
): ReduceJitFn | null {
  let programs = cache.get(rt);
  if (!programs) {
    programs = new Map();
    cache.set(rt, programs);
  }
  const key = `${op}#${input.key}#${epilogue?.key ?? ''}`;
  let entry = programs.get(key);
  if (!entry) {
    try {
      entry = { run: compileReduce(rt, op, input, epilogue) };
    } catch (err) {
      entry = { run: null, error: (err as Error).message };
    }
    programs.set(key, entry);
  }
  return entry.run;
}

function compileReduce(
  rt: Runtime,
  op: 'sum' | 'max' | 'min',
  input: PointwiseProgram,
  epilogue: PointwiseProgram | undefined,
): ReduceJitFn {
  const dt = input.outputDtypes[0] === 'float32' ? 'f32' : 'i32';
  const wide = op === 'sum' && dt === 'f32'; // float64 accumulators
  const code = input.instructions;
  const epi = epilogue?.instructions ?? [];
  const uniform = uniformOf(input);
  const epiUniform = epilogue ? uniformOf(epilogue) : [];
  const nIn = input.inputs.length;
  const nEpi = epilogue ? epilogue.inputs.length - 1 : 0;

  // params: out, outer, size, inner; 4 per input; 3 per epilogue input; the scalars
  const params: number[] = [I32, I32, I32, I32];
  for (let k = 0; k < 4 * nIn + 3 * nEpi; k++) params.push(I32);
  const inputParam = (k: number, field: 0 | 1 | 2 | 3) => 4 + 4 * k + field;
  const epiParam = (k: number, field: 0 | 1 | 2) => 4 + 4 * nIn + 3 * (k - 1) + field;
  const scalarParam: number[] = [];
  const epiScalarParam: number[] = [];
  for (const d of input.scalars) scalarParam.push(params.push(d === 'float32' ? F32 : I32) - 1);
  for (const d of epilogue?.scalars ?? []) epiScalarParam.push(params.push(d === 'float32' ? F32 : I32) - 1);
  const P = params.length;
  // i32 locals: o, i, q (output address), r, tmp, then a running address per input
  const [O, I, Q, R, TMP] = [P, P + 1, P + 2, P + 3, P + 4];
  const ptr = (k: number) => P + 5 + k;
  const nI32 = 5 + nIn;
  // v128 locals: the input program's values, the epilogue's, ones, two accumulators, reduced
  const val = (i: number) => P + nI32 + i;
  const epiVal = (i: number) => P + nI32 + code.length + i;
  const ONES = P + nI32 + code.length + epi.length;
  const [ACC_A, ACC_B, RED] = [ONES + 1, ONES + 2, ONES + 3];
  const nV128 = code.length + epi.length + 4;

  const f = new WasmFn();
  const add = (l: number, by: () => void) => {
    f.get(l);
    by();
    f.op(0x6a); // i32.add
    f.set(l);
  };
  const memarg = () => f.op(2, 0);

  // prologue: the per-call values of both programs
  const uniforms = (
    prog: PointwiseProgram,
    uni: readonly boolean[],
    at: (i: number) => number,
    sp: number[],
  ) =>
    prog.instructions.forEach((ins, i) => {
      if (!uni[i]) return;
      if (ins.op === 'const') {
        const b = laneBits(ins.value, ins.dtype);
        f.v128([b, b, b, b]);
        f.set(at(i));
      } else if (ins.op === 'scalar') {
        f.get(sp[ins.index] as number);
        f.simd(ins.dtype === 'float32' ? SIMD_OP.F32X4_SPLAT : SIMD_OP.I32X4_SPLAT);
        f.set(at(i));
      } else {
        emitInstr(f, prog.instructions, i, at, ONES);
      }
    });
  f.v128([1, 1, 1, 1]);
  f.set(ONES);
  uniforms(input, uniform, val, scalarParam);
  if (epilogue) uniforms(epilogue, epiUniform, epiVal, epiScalarParam);
  f.get(0);
  f.set(Q);

  const used = [...new Set(code.flatMap((ins) => (ins.op === 'input' ? [ins.index] : [])))];
  /** The input program at `r` (one: its value in every lane) or `r..r+3` (vec). */
  const evaluate = (vec: boolean) => {
    code.forEach((ins, i) => {
      if (ins.op !== 'input') return;
      const p = ptr(ins.index);
      const stride = inputParam(ins.index, 2);
      if (!vec) {
        f.get(p);
        f.simd(SIMD_OP.LOAD32_SPLAT);
        memarg();
      } else {
        // a unit stride loads one vector; any other gathers the four lanes
        f.get(stride);
        f.i32(4);
        f.op(0x46, 0x04, V128); // i32.eq; if (result v128)
        f.get(p);
        f.simd(SIMD_OP.V128_LOAD);
        memarg();
        f.op(0x05); // else
        f.get(p);
        f.simd(SIMD_OP.LOAD32_ZERO);
        memarg();
        f.set(val(i));
        f.get(p);
        for (let lane = 1; lane < 4; lane++) {
          f.get(stride);
          f.op(0x6a);
          f.tee(TMP);
          f.get(val(i));
          f.simd(SIMD_OP.LOAD32_LANE);
          memarg();
          f.op(lane);
          f.set(val(i));
          if (lane < 3) f.get(TMP);
        }
        f.get(val(i));
        f.op(0x0b); // end
      }
      f.set(val(i));
    });
    for (const k of used)
      add(ptr(k), () => {
        f.get(inputParam(k, 2));
        if (vec) f.op(0x41, 2, 0x74); // << 2
      });
    code.forEach((ins, i) => {
      if (ins.op !== 'input' && !uniform[i]) emitInstr(f, code, i, val, ONES);
    });
  };
  const value = val(input.outputs[0] as number);
  const fold = () => {
    if (wide) {
      f.get(ACC_A);
      f.get(value);
      f.simd(SIMD_OP.PROMOTE_LOW_F32X4);
      f.simd(SIMD_OP.F64X2_ADD);
      f.set(ACC_A);
      f.get(ACC_B);
      f.get(value);
      f.get(value);
      f.simd(SIMD_OP.SHUFFLE);
      f.op(...LOW_HALF);
      f.simd(SIMD_OP.PROMOTE_LOW_F32X4);
      f.simd(SIMD_OP.F64X2_ADD);
      f.set(ACC_B);
    } else {
      f.get(ACC_A);
      f.get(value);
      f.simd(FOLD[op][dt]);
      f.set(ACC_A);
    }
  };
  const identity = IDENTITY[op][dt];
  const loop = (exitIf: () => void, body: () => void) => {
    f.op(0x02, 0x40, 0x03, 0x40); // block, loop
    exitIf();
    f.op(0x0d, 1); // br_if 1
    body();
    f.op(0x0c, 0, 0x0b, 0x0b); // br 0; end loop; end block
  };
  const reached = (a: number, b: number) => () => {
    f.get(a);
    f.get(b);
    f.op(0x4e); // i32.ge_s
  };

  f.i32(0);
  f.set(O);
  loop(reached(O, 1), () => {
    f.i32(0);
    f.set(I);
    loop(reached(I, 3), () => {
      // this output's start in each input: base + o·so + i·si
      for (const k of used) {
        f.get(inputParam(k, 0));
        f.get(O);
        f.get(inputParam(k, 1));
        f.op(0x6c, 0x6a); // mul, add
        f.get(I);
        f.get(inputParam(k, 3));
        f.op(0x6c, 0x6a);
        f.set(ptr(k));
      }
      const start = wide ? 0 : identity;
      f.v128([start, start, start, start]);
      f.set(ACC_A);
      f.v128([0, 0, 0, 0]);
      f.set(ACC_B);
      f.i32(0);
      f.set(R);
      // four r at a time, then one at a time with lanes 1..3 masked to the identity
      loop(
        () => {
          f.get(R);
          f.i32(4);
          f.op(0x6a);
          f.get(2);
          f.op(0x4a); // i32.gt_s
        },
        () => {
          evaluate(true);
          fold();
          add(R, () => f.i32(4));
        },
      );
      loop(reached(R, 2), () => {
        evaluate(false);
        f.get(value);
        f.v128([identity, identity, identity, identity]);
        f.v128([-1, 0, 0, 0]);
        f.simd(SIMD_OP.V128_BITSELECT);
        f.set(value);
        fold();
        add(R, () => f.i32(1));
      });
      // the lanes' total, in every lane of RED
      if (wide) {
        f.get(ACC_A);
        f.get(ACC_B);
        f.simd(SIMD_OP.F64X2_ADD);
        f.tee(RED);
        f.get(RED);
        f.get(RED);
        f.simd(SIMD_OP.SHUFFLE);
        f.op(...LOW_HALF);
        f.simd(SIMD_OP.F64X2_ADD);
        f.simd(SIMD_OP.DEMOTE_F64X2_ZERO);
      } else {
        f.get(ACC_A);
        f.get(ACC_A);
        f.get(ACC_A);
        f.simd(SIMD_OP.SHUFFLE);
        f.op(...LOW_HALF);
        f.simd(FOLD[op][dt]);
        f.tee(RED);
        f.get(RED);
        f.get(RED);
        f.simd(SIMD_OP.SHUFFLE);
        f.op(...PAIRS);
        f.simd(FOLD[op][dt]);
      }
      f.tee(RED);
      f.get(RED);
      f.simd(SIMD_OP.SHUFFLE);
      f.op(...LANE0);
      f.set(RED);
      let result = RED;
      if (epilogue) {
        epi.forEach((ins, i) => {
          if (ins.op === 'input') {
            if (ins.index === 0) f.get(RED);
            else {
              f.get(epiParam(ins.index, 0));
              f.get(O);
              f.get(epiParam(ins.index, 1));
              f.op(0x6c, 0x6a);
              f.get(I);
              f.get(epiParam(ins.index, 2));
              f.op(0x6c, 0x6a);
              f.simd(SIMD_OP.LOAD32_SPLAT);
              memarg();
            }
            f.set(epiVal(i));
          } else if (!epiUniform[i]) emitInstr(f, epi, i, epiVal, ONES);
        });
        result = epiVal(epilogue.outputs[0] as number);
      }
      f.get(Q);
      f.get(result);
      f.simd(SIMD_OP.I32X4_EXTRACT);
      f.op(0);
      f.op(0x36, 2, 0); // i32.store
      add(Q, () => f.i32(4));
      add(I, () => f.i32(1));
    });
    add(O, () => f.i32(1));
  });
  return instantiate(rt, f, params, [
    [nI32, I32],
    [nV128, V128],
  ]);
}
