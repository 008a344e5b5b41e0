/**
 * The loops of axis reductions of `[outer, size, inner]` into `[outer, inner]`: one template
 * over a combine rule, around a load and a store that reduce-program.ts renders (a contiguous
 * buffer's elements, or an input program's values). Two schedules: one invocation per output
 * (short axes), or one workgroup per output with a tree reduction in workgroup memory (long
 * axes). Max/min propagate NaN; argmax/argmin keep the first index on ties.
 */
import type { DType, ReduceOp } from '@nabla/core';
import type { Binding, ParamWriter, Runtime } from '../runtime.js';
import { flatEntry, grid, PARAMS_HEADER, WG, wgslType } from './wgsl.js';

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
function serialLoop(op: ReduceOp, t: 'f32' | 'i32', load: (j: string) => string): string {
  if (op !== 'sum' || t !== 'f32')
    return `var s = S(${identity(op, t)}, 0xffffffffu);
  for (var j = 0u; j < size; j++) { s = comb(s, S(${load('j')}, j)); }`;
  const terms = [0, 1, 2, 3, 4, 5, 6, 7];
  return `${terms.map((k) => `var a${k} = 0.0;`).join(' ')}
  var j = 0u;
  for (; j + 8u <= size; j += 8u) {
    ${terms.map((k) => `a${k} += ${load(`(j + ${k}u)`)};`).join(' ')}
  }
  for (; j < size; j++) { a0 += ${load('j')}; }
  let s = S(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)), 0u);`;
}

/**
 * What a reduction reads and stores, spliced around the shared loops. In scope for both: `o`
 * and `i` (the output's outer and inner coordinates), `base` (where `[o, 0, i]` lies in a
 * contiguous input), `size`, `inner`, and `dst` (the index stored to).
 */
export interface ReduceIo {
  /** Bindings (from 1) and module-scope functions. */
  readonly decls: string;
  /** WGSL of the value at axis position `j` (a u32 variable or a parenthesised expression). */
  readonly load: (j: string) => string;
  /** The statement storing the reduced `s: S` at `dst`. */
  readonly store: string;
}

/** Whether a stage runs one invocation per output (else one workgroup per output chunk). */
export function isSerial(size: number, chunks: number): boolean {
  return chunks === 1 && size <= SERIAL_REDUCE_MAX;
}

/**
 * The reduction template: `op` over values of `dtype` read and stored through `io`. Parameters:
 * outer, size, inner, then (workgroup schedule) chunkSize, chunks: each workgroup reduces one
 * chunk of the axis, writing `[outer, chunks, inner]`. Words from {@link REDUCE_WORDS} on are
 * the io's.
 */
export function reduceTemplate(op: ReduceOp, dtype: DType, serial: boolean, io: ReduceIo): string {
  const t = wgslType(dtype);
  const head = `${PARAMS_HEADER}
${io.decls}
struct S { v: ${t}, i: u32 }
${combineFn(op, t)}
`;
  const body = serial
    ? `${flatEntry(WG)}
  let inner = pu(2u);
  if (gid >= pu(0u) * inner) { return; }
  let size = pu(1u);
  let o = gid / inner;
  let i = gid % inner;
  let base = o * size * inner + i;
  let dst = gid;
  ${serialLoop(op, t, io.load)}
  ${io.store}
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
  let o = oc / chunks;
  let i = group % inner;
  let base = o * size * inner + i;
  let dst = group;
  let start = (oc % chunks) * chunkSize;
  let end = min(size, start + chunkSize);
  var s = S(${identity(op, t)}, 0xffffffffu);
  for (var j = start + lid; j < end; j += ${REDUCE_WG}u) { s = comb(s, S(${io.load('j')}, j)); }
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
    ${io.store}
  }
}`;
  return `${head}${body}\n`;
}

/** Uniform words of the template's own parameters; an io's follow. */
export const REDUCE_WORDS = 5;

/** A rendered reduction stage to dispatch: its source, bindings and the io's own uniform words. */
export interface ReduceDispatch {
  readonly source: string;
  readonly label: string;
  readonly bindings: readonly Binding[];
  /** Writes the io's words (from {@link REDUCE_WORDS}). */
  readonly params?: (w: ParamWriter) => void;
}

/** Dispatches a stage rendered by {@link reduceTemplate} with `isSerial(size, chunks)`. */
export function dispatchReduce(
  rt: Runtime,
  maxPerDim: number,
  stage: ReduceDispatch,
  outer: number,
  size: number,
  inner: number,
  chunks: number,
): void {
  const outputs = outer * chunks * inner;
  const chunkSize = Math.ceil(size / chunks);
  rt.dispatch({
    source: stage.source,
    label: stage.label,
    bindings: stage.bindings,
    params: (w) => {
      w.us([outer, size, inner, chunkSize, chunks]);
      stage.params?.(w);
    },
    groups: grid(isSerial(size, chunks) ? Math.ceil(outputs / WG) : outputs, maxPerDim),
  });
}
