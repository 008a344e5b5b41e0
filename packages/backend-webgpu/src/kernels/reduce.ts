/**
 * Axis reductions of a contiguous `[outer, size, inner]` input into `[outer, inner]`, from
 * one template over a combine rule. Two generated schedules: one invocation per output
 * (short axes), or one workgroup per output with a tree reduction in workgroup memory
 * (long axes). Max/min propagate NaN; argmax/argmin keep the first index on ties.
 */
import type { DType, ReduceOp } from '@nabla/core';
import type { Binding, Runtime } from '../runtime.js';
import { flatEntry, grid, PARAMS_HEADER, storage, WG, wgslType } from './wgsl.js';

/** Invocations per workgroup of the workgroup schedule. */
export const REDUCE_WG = 128;
/** Axes up to this long are reduced by one invocation per output. */
export const SERIAL_REDUCE_MAX = 64;

/**
 * How a reduction is split: with few outputs and a long axis, one workgroup per output
 * would leave a GPU idle, so the axis is cut into chunks reduced in parallel, then the
 * partial results are reduced again. Arg-reductions stay single-stage (their partials
 * would need indices). Returns 1 chunk for the single-stage case.
 */
export function reduceChunks(op: ReduceOp, outputs: number, size: number): number {
  if (op === 'argmax' || op === 'argmin' || outputs > 64 || size < 8192) return 1;
  return Math.min(256, Math.ceil(size / 4096));
}

function identity(op: ReduceOp, t: 'f32' | 'i32'): string {
  if (op === 'sum') return t === 'f32' ? '0.0' : '0i';
  const low = op === 'max' || op === 'argmax';
  if (t === 'f32') return low ? '-f32Inf()' : 'f32Inf()';
  return low ? 'i32(-2147483648)' : '2147483647i';
}

function combineFn(op: ReduceOp, t: 'f32' | 'i32'): string {
  if (op === 'sum') return `fn comb(a: S, b: S) -> S { return S(a.v + b.v, 0u); }`;
  const better = op === 'max' || op === 'argmax' ? '>' : '<';
  // b wins when it is NaN and a is not, when it is strictly better, or on a tie with a lower index.
  return `fn comb(a: S, b: S) -> S {
  let an = ${t === 'f32' ? 'isNan(a.v)' : 'false'};
  let bn = ${t === 'f32' ? 'isNan(b.v)' : 'false'};
  let take = (bn && !an) || (!an && b.v ${better} a.v) || ((b.v == a.v || (an && bn)) && b.i < a.i);
  if (take) { return b; }
  return a;
}`;
}

/**
 * The loop of the one-invocation-per-output schedule. A float32 sum runs as eight interleaved
 * partial sums added pairwise at the end: a short axis (up to {@link SERIAL_REDUCE_MAX}) is
 * typically a batch, and a serial float32 sum of 64 terms loses up to ~8 ulp (4.7e-7 relative
 * measured), where this keeps ~1.
 */
function serialLoop(op: ReduceOp, t: 'f32' | 'i32'): string {
  if (op !== 'sum' || t !== 'f32')
    return `var s = S(${identity(op, t)}, 0xffffffffu);
  for (var j = 0u; j < size; j++) { s = comb(s, S(x[base + j * inner], j)); }`;
  const terms = [0, 1, 2, 3, 4, 5, 6, 7];
  return `${terms.map((k) => `var a${k} = 0.0;`).join(' ')}
  var j = 0u;
  for (; j + 8u <= size; j += 8u) {
    ${terms.map((k) => `a${k} += x[base + (j + ${k}u) * inner];`).join(' ')}
  }
  for (; j < size; j++) { a0 += x[base + j * inner]; }
  let s = S(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)), 0u);`;
}

const cache = new Map<string, string>();

/** Shader source of a reduction variant. */
export function reduceSource(op: ReduceOp, dtype: DType, serial: boolean): string {
  const key = `${op}|${dtype}|${serial}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const t = wgslType(dtype);
  const outT = op === 'argmax' || op === 'argmin' ? 'i32' : t;
  const result = outT === t && op !== 'argmax' && op !== 'argmin' ? 's.v' : 'i32(s.i)';
  const head = `${PARAMS_HEADER}
${storage(1, 'x', t, false)}
${storage(2, 'out', outT, true)}
struct S { v: ${t}, i: u32 }
${combineFn(op, t)}
`;
  // Parameters: outer, size, inner, then (workgroup schedule) chunkSize, chunks: each
  // workgroup reduces one chunk of the axis, writing `[outer, chunks, inner]`.
  const body = serial
    ? `${flatEntry(WG)}
  let inner = pu(2u);
  if (gid >= pu(0u) * inner) { return; }
  let size = pu(1u);
  let base = (gid / inner) * size * inner + gid % inner;
  ${serialLoop(op, t)}
  out[gid] = ${result};
}`
    : `var<workgroup> shv: array<${t}, ${REDUCE_WG}>;
var<workgroup> shi: array<u32, ${REDUCE_WG}>;
${flatEntry(REDUCE_WG)}
  let inner = pu(2u);
  let chunkSize = pu(3u);
  let chunks = pu(4u);
  if (group >= pu(0u) * chunks * inner) { return; }
  let size = pu(1u);
  let oc = group / inner;
  let base = (oc / chunks) * size * inner + group % inner;
  let start = (oc % chunks) * chunkSize;
  let end = min(size, start + chunkSize);
  var s = S(${identity(op, t)}, 0xffffffffu);
  for (var j = start + lid; j < end; j += ${REDUCE_WG}u) { s = comb(s, S(x[base + j * inner], j)); }
  shv[lid] = s.v;
  shi[lid] = s.i;
  workgroupBarrier();
  for (var step = ${REDUCE_WG / 2}u; step > 0u; step >>= 1u) {
    if (lid < step) {
      let r = comb(S(shv[lid], shi[lid]), S(shv[lid + step], shi[lid + step]));
      shv[lid] = r.v;
      shi[lid] = r.i;
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let s = S(shv[0], shi[0]);
    out[group] = ${result};
  }
}`;
  const src = `${head}${body}\n`;
  cache.set(key, src);
  return src;
}

/**
 * Encodes one stage: `chunks` partial results per output (1: the final ones); `bindings`: x,
 * then out (written).
 */
export function reduceStage(
  rt: Runtime,
  maxPerDim: number,
  bindings: Binding[],
  op: ReduceOp,
  dtype: DType,
  outer: number,
  size: number,
  inner: number,
  chunks: number,
): void {
  const serial = chunks === 1 && size <= SERIAL_REDUCE_MAX;
  const outputs = outer * chunks * inner;
  const chunkSize = Math.ceil(size / chunks);
  rt.dispatch({
    source: reduceSource(op, dtype, serial),
    label: `reduce-${op}`,
    bindings,
    params: (w) => w.us([outer, size, inner, chunkSize, chunks]),
    groups: grid(serial ? Math.ceil(outputs / WG) : outputs, maxPerDim),
  });
}
