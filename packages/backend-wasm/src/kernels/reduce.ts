/** Axis reductions over contiguous `[outer, size, inner]` buffers. */
import type { ReduceArgs } from '@nabla/core';
import { own } from '../buffer.js';
import type { Runtime } from '../runtime.js';

/** Reduces the middle axis of `[outer, size, inner]` into `[outer, inner]`. */
export function reduce(rt: Runtime, { op, x: xB, out: outB, outer, size, inner }: ReduceArgs): void {
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
