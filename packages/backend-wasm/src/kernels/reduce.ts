/**
 * Axis reductions over `[outer, size, inner]`: contiguous buffers, or pointwise programs.
 *
 * A program input or epilogue (core's `ReduceArgs.input`/`.epilogue`) runs as one function
 * emitted at run time (./reduce-jit.ts): the program at each `[o, r, i]`, folded, then the
 * epilogue, no intermediate array. Where run-time code is unavailable (the JIT is off, or the
 * engine refuses it) the input program runs through the pointwise kernel into private scratch,
 * then the plain reduction, then the epilogue in place: same results within rounding (the
 * plain float32 sum's partial sums differ in order), one kernel call for core either way.
 */
import {
  type BackendBuffer,
  checkReduceArgs,
  type PointwiseArgs,
  type ReduceArgs,
  type ReduceExpression,
  reduceStaged,
  type StridedView,
} from '@nabla/core';
import { isLive, own, WasmBuffer } from '../buffer.js';
import type { Runtime } from '../runtime.js';
import { pointwise, pointwiseJitEnabled } from './pointwise.js';
import { reduceJit } from './reduce-jit.js';

/** Reduces the middle axis of `[outer, size, inner]` into `[outer, inner]`. */
export function reduce(rt: Runtime, args: ReduceArgs): void {
  checkReduceArgs(args, 'wasm');
  if (args.input !== undefined) {
    reduceExpression(rt, args);
    return;
  }
  reducePlain(rt, args.op, args.x as BackendBuffer, args.out, args.outer, args.size, args.inner);
}

/** Checks that an expression's buffers are this backend's and live. */
function ownViews(op: string, what: string, e: ReduceExpression, skip: number): void {
  for (let k = 0; k < e.inputs.length; k++) {
    const b = (e.inputs[k] as StridedView).buffer;
    if (!isLive(b)) own(b, `reduce ${op} ${what} input ${k + skip}`);
  }
}

/** A checked reduction (see `checkReduceArgs`) whose input is a program. */
function reduceExpression(rt: Runtime, args: ReduceArgs & { readonly input: ReduceExpression }): void {
  const { op, input, epilogue, out: outB, outer, size, inner } = args;
  const out = isLive(outB) ? outB : own(outB, `reduce ${op} output`);
  ownViews(op, 'input', input, 0);
  if (epilogue !== undefined) ownViews(op, 'epilogue', epilogue, 1);
  if (outer * inner === 0) return;
  // checkReduceArgs let only sum, max and min take a program
  const fold = op as 'sum' | 'max' | 'min';
  const run = pointwiseJitEnabled(rt) ? reduceJit(rt, fold, input.program, epilogue?.program) : null;
  if (run === null) {
    reduceThroughScratch(rt, args);
    return;
  }
  const operands: number[] = [out.ptr, outer, size, inner];
  for (const v of input.inputs) {
    const [so, sr, si] = v.strides as [number, number, number];
    operands.push((v.buffer as WasmBuffer).ptr + v.offset * 4, so * 4, sr * 4, si * 4);
  }
  for (const v of epilogue?.inputs ?? []) {
    const [so, si] = v.strides as [number, number];
    operands.push((v.buffer as WasmBuffer).ptr + v.offset * 4, so * 4, si * 4);
  }
  // float32 scalars round to the nearest float32, int32 ones truncate and wrap (wasm's ToInt32)
  operands.push(...input.scalars, ...(epilogue?.scalars ?? []));
  run(...operands);
}

/** The fallback without run-time code: core's staged path over allocator scratch. */
function reduceThroughScratch(rt: Runtime, args: ReduceArgs & { readonly input: ReduceExpression }): void {
  const scratch: WasmBuffer[] = [];
  const kernels = {
    pointwise: (a: PointwiseArgs) => pointwise(rt, a),
    reduce: (a: ReduceArgs) => reducePlain(rt, a.op, a.x!, a.out, a.outer, a.size, a.inner),
  };
  try {
    reduceStaged(kernels, args, (n, dtype) => {
      const b = new WasmBuffer(n, dtype, rt.allocator.alloc(Math.max(1, n) * 4));
      scratch.push(b);
      return b;
    });
  } finally {
    for (const b of scratch) {
      b.disposed = true;
      rt.allocator.free(b.ptr, Math.max(1, b.size) * 4);
    }
  }
}

function reducePlain(
  rt: Runtime,
  op: ReduceArgs['op'],
  xB: BackendBuffer,
  outB: BackendBuffer,
  outer: number,
  size: number,
  inner: number,
): void {
  const x = isLive(xB) ? xB : own(xB, `reduce ${op} input`);
  const out = isLive(outB) ? outB : own(outB, `reduce ${op} output`);
  if (outer * inner === 0) return;
  const name = `red_${op}_${x.dtype === 'float32' ? 'f32' : 'i32'}`;
  const T = rt.threads;
  const big = outer * size * inner >= rt.threading.minParallelElements && T > 1;
  const jobs: number[][] = [];
  if (big && outer >= T) {
    const per = Math.ceil(outer / T);
    for (let o = 0; o < outer; o += per) {
      const n = Math.min(per, outer - o);
      jobs.push([x.ptr + o * size * inner * 4, out.ptr + o * inner * 4, n, size, inner, inner]);
    }
  } else if (big && inner >= 4 * T) {
    // one outer row: split its columns (each thread keeps the full stride)
    const per = Math.ceil(inner / T / 4) * 4;
    for (let i = 0; i < inner; i += per) {
      jobs.push([x.ptr + i * 4, out.ptr + i * 4, outer, size, Math.min(per, inner - i), inner]);
    }
  } else {
    jobs.push([x.ptr, out.ptr, outer, size, inner, inner]);
  }
  rt.parallel(name, jobs);
}
