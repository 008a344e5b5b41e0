/** Strided iteration spaces: collapsing the views of a call, and when a call is worth threads. */
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
