import type { BackendBuffer, DType, TypedArray } from '@nabla/core';

/**
 * The cpu backend's buffer: a typed array on the JS heap, plus a disposed flag so a
 * use-after-dispose fails with a clear message instead of reading stale data.
 */
export class CpuBuffer implements BackendBuffer {
  readonly size: number;
  readonly dtype: DType;
  /** The storage; dropped (set to an empty array) on dispose so the GC can reclaim it. */
  data: TypedArray;
  disposed = false;

  constructor(size: number, dtype: DType) {
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(`cpu backend: cannot allocate ${size} elements of ${dtype}`);
    }
    if (dtype !== 'float32' && dtype !== 'int32') {
      throw new TypeError(`cpu backend: unsupported dtype '${String(dtype)}' (float32 or int32)`);
    }
    this.size = size;
    this.dtype = dtype;
    this.data = dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
  }
}

/**
 * The label of a kernel argument for an error message: `what` (e.g. `'binary output'`) with
 * the op name inserted after the kernel name when given (`'binary lt output'`). Built only
 * when a check fails, so the hot path concatenates no strings.
 */
function label(what: string, op: string | undefined): string {
  return op === undefined ? what : what.replace(' ', ` ${op} `);
}

/**
 * Checks that `buffer` belongs to the cpu backend and is alive, and returns it typed.
 * `what` names the kernel and argument for the error message; `op` the op, if any.
 */
export function cpuBuffer(buffer: BackendBuffer, what: string, op?: string): CpuBuffer {
  if (!(buffer instanceof CpuBuffer)) {
    throw new TypeError(`cpu backend: ${label(what, op)} is not a cpu buffer (it came from another backend)`);
  }
  if (buffer.disposed) throw new Error(`cpu backend: ${label(what, op)} was disposed`);
  return buffer;
}

/** {@link cpuBuffer}, and also checks dtype and minimum size. */
export function checked(
  buffer: BackendBuffer,
  what: string,
  dtype: DType | null,
  size: number,
  op?: string,
): CpuBuffer {
  const b = cpuBuffer(buffer, what, op);
  if (dtype !== null && b.dtype !== dtype) {
    throw new TypeError(`cpu backend: ${label(what, op)} must be ${dtype}, got ${b.dtype}`);
  }
  if (b.size < size) {
    throw new RangeError(
      `cpu backend: ${label(what, op)} holds ${b.size} elements, the kernel needs ${size}`,
    );
  }
  return b;
}

/** A float32 view of a buffer, or a type error naming the kernel argument. */
export function f32(buffer: BackendBuffer, what: string, size: number): Float32Array {
  return checked(buffer, what, 'float32', size).data as Float32Array;
}

/** An int32 view of a buffer, or a type error naming the kernel argument. */
export function i32(buffer: BackendBuffer, what: string, size: number): Int32Array {
  return checked(buffer, what, 'int32', size).data as Int32Array;
}
