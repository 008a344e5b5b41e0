/** Buffers and kernel arguments on any backend, through core's `Backend` interface. */
import type { Backend, BackendBuffer, DType, MatmulArgs, StridedView } from '@nabla/core';

/**
 * Allocates a buffer and writes `data` into it. A typed array gives its own dtype; plain
 * numbers are written as `dtype` (float32 unless told).
 */
export function upload(
  backend: Pick<Backend, 'alloc' | 'write'>,
  data: Float32Array | Int32Array | readonly number[],
  dtype: DType = 'float32',
): BackendBuffer {
  const typed =
    data instanceof Float32Array || data instanceof Int32Array
      ? data
      : dtype === 'float32'
        ? Float32Array.from(data)
        : Int32Array.from(data);
  const buf = backend.alloc(typed.length, typed instanceof Float32Array ? 'float32' : 'int32');
  backend.write(buf, typed);
  return buf;
}

/** A view of `buffer` with the given strides, starting at `offset`. */
export function view(buffer: BackendBuffer, strides: readonly number[], offset = 0): StridedView {
  return { buffer, strides: [...strides], offset };
}

/** Reads a buffer back as plain numbers. */
export async function readBack(backend: Pick<Backend, 'read'>, buffer: BackendBuffer): Promise<number[]> {
  return Array.from(await backend.read(buffer));
}

/** Matmul arguments: one matrix (batch 1), no transposes and no batch strides unless given. */
export function matmulArgs(
  a: BackendBuffer,
  b: BackendBuffer,
  out: BackendBuffer,
  dims: Pick<MatmulArgs, 'm' | 'n' | 'k'> & Partial<MatmulArgs>,
): MatmulArgs {
  return { batch: 1, transA: false, transB: false, strideA: 0, strideB: 0, ...dims, a, b, out };
}

/**
 * Runs the fused softmax cross-entropy forward kernel on `rows` rows of `classes` logits,
 * into three new float32 buffers (the caller disposes them).
 */
export function softmaxCrossEntropyForward(
  backend: Pick<Backend, 'alloc' | 'kernels'>,
  logits: BackendBuffer,
  targets: BackendBuffer,
  rows: number,
  classes: number,
  ignoreIndex = -100,
): { loss: BackendBuffer; shift: BackendBuffer; logSum: BackendBuffer } {
  const [loss, shift, logSum] = [0, 1, 2].map(() => backend.alloc(rows, 'float32'));
  const kernel = backend.kernels.softmaxCrossEntropy;
  if (!kernel) throw new Error('this backend has no fused softmaxCrossEntropy kernel');
  kernel({ logits, targets, loss, shift, logSum, rows, classes, ignoreIndex });
  return { loss, shift, logSum };
}
