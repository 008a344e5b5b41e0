/**
 * Strided elementwise dispatch: collapse the iteration space, pad it to the 4-D form every
 * elementwise export takes, loop in JavaScript over any dims beyond four, and split large
 * jobs across threads.
 */
import type { StridedView } from '@nabla/core';
import { own, type WasmBuffer } from '../buffer.js';
import type { Runtime } from '../runtime.js';
import { DEFAULT_THREADING } from '../threading.js';

/**
 * The default element threshold below which a kernel runs on one thread (see threading.ts;
 * kernels read the backend's own value, `rt.threading.minParallelElements`).
 */
export const PARALLEL_MIN_ELEMENTS = DEFAULT_THREADING.minParallelElements;

/**
 * Drops size-1 dims and merges neighbours that are contiguous for every operand (the output
 * is contiguous, so it never blocks a merge). `strides[k]` are the element strides of input k.
 */
export function collapse(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { dims: number[]; strides: number[][] } {
  const dims: number[] = [];
  const out: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d] as number;
    if (n === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => (out[k] as number[])[last] === (s[d] as number) * n)) {
      dims[last] = (dims[last] as number) * n;
      for (let k = 0; k < strides.length; k++)
        (out[k] as number[])[last] = (strides[k] as number[])[d] as number;
    } else {
      dims.push(n);
      for (let k = 0; k < strides.length; k++)
        (out[k] as number[]).push((strides[k] as number[])[d] as number);
    }
  }
  return { dims, strides: out };
}

/**
 * Runs a strided elementwise export `(in0, in1, ..., out, d0..d3, strides of in0 (4), ...)`
 * over `shape`, writing `out` contiguously.
 */
export function runStrided(
  rt: Runtime,
  kernel: string,
  inputs: readonly StridedView[],
  out: WasmBuffer,
  shape: readonly number[],
): void {
  const total = shape.reduce((a, b) => a * b, 1);
  if (total === 0) return;
  for (const v of inputs) {
    if (v.strides.length !== shape.length) {
      throw new Error(
        `wasm backend: ${kernel}: view has ${v.strides.length} strides for shape [${shape.join(', ')}]`,
      );
    }
  }
  const bufs = inputs.map((v, k) => own(v.buffer, `${kernel} input ${k}`));
  if (total < rt.threading.minParallelElements || rt.threads < 2) {
    // the common small case: every input row-major over the whole shape (or one broadcast
    // scalar) is one flat call, without collapsing dims or building per-dim arrays
    const flat = flatArgs(inputs, bufs, shape, out.ptr, total);
    if (flat) {
      rt.call(kernel, ...flat);
      return;
    }
  }
  const { dims, strides } = collapse(
    shape,
    inputs.map((v) => v.strides),
  );
  while (dims.length < 4) {
    dims.unshift(1);
    for (const s of strides) s.unshift(0);
  }
  const extra = dims.length - 4;
  const inner = dims.slice(extra);
  const innerStrides = strides.map((s) => s.slice(extra));
  const block = inner.reduce((a, b) => a * b, 1);
  const base = inputs.map((v, k) => (bufs[k] as WasmBuffer).ptr + v.offset * 4);
  // odometer over the leading dims beyond four (rare: only genuinely 5-D+ strided views)
  const idx = new Array<number>(extra).fill(0);
  for (let outer = 0, count = total / block; outer < count; outer++) {
    const ptrs = base.map((b, k) => {
      let p = b;
      for (let d = 0; d < extra; d++) p += (idx[d] as number) * ((strides[k] as number[])[d] as number) * 4;
      return p;
    });
    run4(rt, kernel, ptrs, out.ptr + outer * block * 4, inner, innerStrides, block);
    for (let d = extra - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      if ((idx[d] as number) < (dims[d] as number)) break;
      idx[d] = 0;
    }
  }
}

/**
 * The arguments of one flat call `(ptrs..., out, 1, 1, 1, total, strides...)` when every input
 * is row-major over `shape` (stride 1 innermost) or a single broadcast element (all strides
 * 0); null otherwise.
 */
function flatArgs(
  inputs: readonly StridedView[],
  bufs: readonly WasmBuffer[],
  shape: readonly number[],
  outPtr: number,
  total: number,
): number[] | null {
  const args: number[] = [];
  const strideArgs: number[] = [];
  for (let k = 0; k < inputs.length; k++) {
    const v = inputs[k] as StridedView;
    const st = v.strides;
    let broadcast = true;
    let rowMajor = true;
    let expect = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const n = shape[d] as number;
      const s = st[d] as number;
      if (n === 1) continue;
      if (s !== 0) broadcast = false;
      if (s !== expect) rowMajor = false;
      expect *= n;
    }
    if (!rowMajor && !broadcast) return null;
    args.push((bufs[k] as WasmBuffer).ptr + v.offset * 4);
    strideArgs.push(0, 0, 0, rowMajor ? 1 : 0);
  }
  args.push(outPtr, 1, 1, 1, total);
  for (const s of strideArgs) args.push(s);
  return args;
}

/** One 4-D call, split along its first non-trivial dim when large enough to pay for threads. */
function run4(
  rt: Runtime,
  kernel: string,
  ptrs: number[],
  outPtr: number,
  dims: number[],
  strides: number[][],
  total: number,
): void {
  const threads = rt.threads;
  const argsFor = (p: number[], o: number, d: number[]) => [...p, o, ...d, ...strides.flat()];
  const split = dims.findIndex((n) => n > 1);
  if (
    threads < 2 ||
    total < rt.threading.minParallelElements ||
    split < 0 ||
    (dims[split] as number) < threads
  ) {
    rt.call(kernel, ...argsFor(ptrs, outPtr, dims));
    return;
  }
  const n = dims[split] as number;
  const after = dims.slice(split + 1).reduce((a, b) => a * b, 1);
  // split the contiguous row form in multiples of 4 so SIMD lanes stay aligned
  const grain = split === 3 ? 4 : 1;
  const per = Math.ceil(n / threads / grain) * grain;
  const jobs: number[][] = [];
  for (let s = 0; s < n; s += per) {
    const len = Math.min(per, n - s);
    const d = dims.slice();
    d[split] = len;
    const p = ptrs.map((q, k) => q + s * ((strides[k] as number[])[split] as number) * 4);
    jobs.push(argsFor(p, outPtr + s * after * 4, d));
  }
  rt.parallel(kernel, jobs);
}
