import type { BackendBuffer, DType } from '@nabla/core';

/** A tensor's storage: a block of the backend's linear memory. */
export class WasmBuffer implements BackendBuffer {
  /** Set by disposeBuffer; a disposed buffer's memory may already belong to another. */
  disposed = false;
  constructor(
    readonly size: number,
    readonly dtype: DType,
    /** Byte address in linear memory (16-byte aligned). */
    readonly ptr: number,
  ) {}
}

/**
 * Whether `b` is a live buffer of this backend. Hot paths whose label is computed check this
 * first and call {@link own} only to throw, so no label string is built per call.
 */
export function isLive(b: BackendBuffer): b is WasmBuffer {
  return b instanceof WasmBuffer && !b.disposed;
}

/** Narrows a core buffer handle to this backend's, with a clear error for foreign or freed ones. */
export function own(b: BackendBuffer, what: string): WasmBuffer {
  if (!(b instanceof WasmBuffer)) {
    throw new Error(`wasm backend: ${what} is not a wasm buffer (a tensor from another backend?)`);
  }
  if (b.disposed) throw new Error(`wasm backend: ${what} was disposed`);
  return b;
}
