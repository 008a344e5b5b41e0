/**
 * Axis reductions over `[outer, size, inner]`: contiguous buffers, or pointwise programs.
 *
 * A program input or epilogue (core's `ReduceArgs.input`/`.epilogue`) runs through this
 * backend's pointwise kernel (its JIT) into private scratch, then the plain reduction, then the
 * epilogue in place: the AssemblyScript reductions are precompiled per op and dtype and cannot
 * host an expression, and the JIT emits only elementwise loops. Same results, one kernel call
 * for core; the scratch never becomes a tensor. These are small reductions (row counts, a
 * loss's mean), where the extra pass is a few microseconds.
 */
import type { BackendBuffer, ReduceArgs, StridedView } from '@nabla/core';
import { own, WasmBuffer } from '../buffer.js';
import type { Runtime } from '../runtime.js';
import { pointwise } from './pointwise.js';

/** Reduces the middle axis of `[outer, size, inner]` into `[outer, inner]`. */
export function reduce(rt: Runtime, args: ReduceArgs): void {
  if (args.input !== undefined || args.epilogue !== undefined) {
    reduceExpression(rt, args);
    return;
  }
  reducePlain(rt, args.op, args.x, args.out, args.outer, args.size, args.inner);
}

function reduceExpression(
  rt: Runtime,
  { op, input, epilogue, out: outB, outer, size, inner }: ReduceArgs,
): void {
  if (op !== 'sum' && op !== 'max' && op !== 'min')
    throw new Error(`wasm backend: reduce ${op} takes no program (sum, max and min do)`);
  if (input === undefined) throw new Error(`wasm backend: reduce ${op}: an epilogue needs an input program`);
  if (size === 0 && op !== 'sum') throw new Error(`wasm backend: reduce ${op} over an empty axis`);
  const out = own(outB, `reduce ${op} output`);
  const reduced = input.program.outputDtypes[0];
  const want = epilogue?.program.outputDtypes[0] ?? reduced;
  if (out.dtype !== want)
    throw new Error(`wasm backend: reduce ${op} writes ${want}, output is ${out.dtype}`);
  if (epilogue !== undefined && epilogue.program.inputs[0] !== reduced)
    throw new Error(`wasm backend: reduce ${op}: the epilogue's input 0 must be ${reduced}`);
  if (outer * inner === 0) return;
  const scratch: WasmBuffer[] = [];
  const temp = (n: number, dtype: typeof reduced) => {
    const b = new WasmBuffer(n, dtype, rt.allocator.alloc(Math.max(1, n) * 4));
    scratch.push(b);
    return b;
  };
  try {
    const values = temp(outer * size * inner, reduced);
    pointwise(rt, { ...input, outputs: [values], shape: [outer, size, inner] });
    // an epilogue of the reduced dtype runs in place on `out` (read through the identity view)
    const target: BackendBuffer =
      epilogue === undefined || want === reduced ? out : temp(outer * inner, reduced);
    reducePlain(rt, op, values, target, outer, size, inner);
    if (epilogue !== undefined) {
      const acc: StridedView = { buffer: target, offset: 0, strides: [inner, 1] };
      pointwise(rt, {
        ...epilogue,
        inputs: [acc, ...epilogue.inputs],
        outputs: [out],
        shape: [outer, inner],
      });
    }
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
  const x = own(xB, `reduce ${op} input`);
  const out = own(outB, `reduce ${op} output`);
  const wantOut = op === 'argmax' || op === 'argmin' ? 'int32' : x.dtype;
  if (out.dtype !== wantOut)
    throw new Error(`wasm backend: reduce ${op} on ${x.dtype} writes ${wantOut}, output is ${out.dtype}`);
  if (size === 0 && op !== 'sum') throw new Error(`wasm backend: reduce ${op} over an empty axis`);
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
