/**
 * `gather` (one invocation per output element) and its adjoint `scatterAdd`, which runs
 * one invocation per `(outer, inner)` column looping over `k`: each column is owned by a
 * single invocation, so accumulation needs no float atomics and is deterministic.
 * Parameters of both: outer, size, k, inner.
 */
import type { DType } from '@nabla/core';
import type { Binding, Runtime } from '../runtime.js';
import { flatEntry, grid, PARAMS_HEADER, sourceCache, storage, WG, wgslType } from './wgsl.js';

const cached = sourceCache();

/**
 * The start of the gather and scatterAdd shaders: the data input `input` and `out` of WGSL type
 * `t` with the int32 `index` between them, the entry point, and the parameters `size`, `k` and
 * `inner` (the total, parameter 0, each kernel reads itself).
 */
function indexingHead(t: string, input: string): string {
  return `${PARAMS_HEADER}
${storage(1, input, t, false)}
${storage(2, 'index', 'i32', false)}
${storage(3, 'out', t, true)}
${flatEntry(WG)}
  let size = pu(1u);
  let k = pu(2u);
  let inner = pu(3u);`;
}

/** Shader source of `gather` for the data dtype. */
export function gatherSource(dtype: DType): string {
  return cached(`gather|${dtype}`, () => {
    const t = wgslType(dtype);
    return `${indexingHead(t, 'x')}
  if (gid >= pu(0u) * k * inner) { return; }
  let o = gid / (k * inner);
  let i = gid % inner;
  let idx = u32(index[gid]);
  out[gid] = x[(o * size + idx) * inner + i];
}
`;
  });
}

/** Shader source of `scatterAdd` for the data dtype. */
export function scatterAddSource(dtype: DType): string {
  return cached(`scatter|${dtype}`, () => {
    const t = wgslType(dtype);
    const zero = t === 'f32' ? '0.0' : '0i';
    return `${indexingHead(t, 'src')}
  if (gid >= pu(0u) * inner) { return; }
  let o = gid / inner;
  let i = gid % inner;
  for (var s = 0u; s < size; s++) { out[(o * size + s) * inner + i] = ${zero}; }
  for (var j = 0u; j < k; j++) {
    let at = (o * k + j) * inner + i;
    let dst = (o * size + u32(index[at])) * inner + i;
    out[dst] = out[dst] + src[at];
  }
}
`;
  });
}

/** Shader source of `fill`: parameters total, value bits. */
export function fillSource(dtype: DType): string {
  return cached(`fill|${dtype}`, () => {
    const t = wgslType(dtype);
    return `${PARAMS_HEADER}
${storage(1, 'out', t, true)}
${flatEntry(WG)}
  if (gid >= pu(0u)) { return; }
  out[gid] = ${t === 'f32' ? 'pf(1u)' : 'pi(1u)'};
}
`;
  });
}

/** Encodes a one-thread-per-element kernel over `total` elements with unsigned parameters. */
function flat(
  rt: Runtime,
  maxPerDim: number,
  label: string,
  source: string,
  bindings: Binding[],
  total: number,
  params: number[],
): void {
  rt.dispatch({
    source,
    label,
    bindings,
    params: (w) => w.us(params),
    groups: grid(Math.ceil(total / WG), maxPerDim),
  });
}

/** Encodes `fill`; `bindings`: out (written). `word` is the value's bits in the buffer's dtype. */
export function fill(
  rt: Runtime,
  maxPerDim: number,
  bindings: Binding[],
  dtype: DType,
  size: number,
  word: number,
): void {
  flat(rt, maxPerDim, 'fill', fillSource(dtype), bindings, size, [size, word]);
}

/**
 * Encodes `gather` (one thread per `[outer, k, inner]` output; `bindings`: x, index, out) or
 * `scatterAdd` (one thread per `[outer, inner]` column; `bindings`: src, index, out).
 */
export function gatherOrScatterAdd(
  rt: Runtime,
  maxPerDim: number,
  kernel: 'gather' | 'scatterAdd',
  bindings: Binding[],
  dtype: DType,
  outer: number,
  size: number,
  k: number,
  inner: number,
): void {
  const gather = kernel === 'gather';
  const source = gather ? gatherSource(dtype) : scatterAddSource(dtype);
  flat(rt, maxPerDim, kernel, source, bindings, gather ? outer * k * inner : outer * inner, [
    outer,
    size,
    k,
    inner,
  ]);
}
