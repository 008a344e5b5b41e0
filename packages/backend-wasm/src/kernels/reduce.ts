/** Axis reductions and gather/scatter over contiguous `[outer, size, inner]` buffers. */
import type { BackendBuffer, ReduceOp } from '@nabla/core';
import { own } from '../buffer.js';
import type { Runtime } from '../runtime.js';

/** Reduces the middle axis of `[outer, size, inner]` into `[outer, inner]`. */
export function reduce(
  rt: Runtime,
  op: ReduceOp,
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

/** `out[o, j, i] = x[o, index[o, j, i], i]`. */
export function gather(
  rt: Runtime,
  xB: BackendBuffer,
  idxB: BackendBuffer,
  outB: BackendBuffer,
  outer: number,
  size: number,
  k: number,
  inner: number,
): void {
  const x = own(xB, 'gather input');
  const idx = own(idxB, 'gather index');
  const out = own(outB, 'gather output');
  if (idx.dtype !== 'int32') throw new Error(`wasm backend: gather index must be int32, got ${idx.dtype}`);
  rt.call('gather32', x.ptr, idx.ptr, out.ptr, outer, size, k, inner);
}

/** Zeroes `out: [outer, size, inner]`, then `out[o, index[o, j, i], i] += src[o, j, i]`. */
export function scatterAdd(
  rt: Runtime,
  srcB: BackendBuffer,
  idxB: BackendBuffer,
  outB: BackendBuffer,
  outer: number,
  size: number,
  k: number,
  inner: number,
): void {
  const src = own(srcB, 'scatterAdd source');
  const idx = own(idxB, 'scatterAdd index');
  const out = own(outB, 'scatterAdd output');
  if (idx.dtype !== 'int32')
    throw new Error(`wasm backend: scatterAdd index must be int32, got ${idx.dtype}`);
  if (src.dtype !== out.dtype)
    throw new Error(`wasm backend: scatterAdd source is ${src.dtype}, output ${out.dtype}`);
  rt.call(
    `scatter_add_${out.dtype === 'float32' ? 'f32' : 'i32'}`,
    src.ptr,
    idx.ptr,
    out.ptr,
    outer,
    size,
    k,
    inner,
  );
}
