/** Gather along the middle axis of `[outer, size, inner]`, and its adjoint scatter-add. */
import type { GatherArgs, ScatterAddArgs } from '@nabla/core';
import { own } from '../buffer.js';
import type { Runtime } from '../runtime.js';

/** `out[o, j, i] = x[o, index[o, j, i], i]`. */
export function gather(rt: Runtime, args: GatherArgs): void {
  const { x: xB, index: idxB, out: outB, outer, size, k, inner } = args;
  const x = own(xB, 'gather input');
  const idx = own(idxB, 'gather index');
  const out = own(outB, 'gather output');
  if (idx.dtype !== 'int32') throw new Error(`wasm backend: gather index must be int32, got ${idx.dtype}`);
  rt.call('gather32', x.ptr, idx.ptr, out.ptr, outer, size, k, inner);
}

/** Zeroes `out: [outer, size, inner]`, then `out[o, index[o, j, i], i] += src[o, j, i]`. */
export function scatterAdd(rt: Runtime, args: ScatterAddArgs): void {
  const { src: srcB, index: idxB, out: outB, outer, size, k, inner } = args;
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
