/**
 * Device memory shared by a tensor and its views. A storage is reference-counted: each
 * live tensor (and each tensor saved for backward) holds one reference; the backend buffer
 * is returned when the last one goes.
 */
import { type Backend, type BackendBuffer, bytesPerElement, type DType } from './backend.js';

let liveBytes = 0;
let liveBuffers = 0;

export class Storage {
  private refs = 0;
  /**
   * Bumped by every in-place write (`assign`, `pointwiseInto`, optimizer updates): PyTorch's
   * version counter. Autograd remembers it for saved tensors and refuses a backward pass that
   * would read values changed since the forward pass.
   */
  version = 0;

  constructor(
    readonly backend: Backend,
    readonly buffer: BackendBuffer,
  ) {
    liveBytes += buffer.size * bytesPerElement(buffer.dtype);
    liveBuffers++;
  }

  /** Allocates a fresh buffer on `backend`. */
  static alloc(backend: Backend, size: number, dtype: DType): Storage {
    return new Storage(backend, backend.alloc(size, dtype));
  }

  get dtype(): DType {
    return this.buffer.dtype;
  }

  get size(): number {
    return this.buffer.size;
  }

  get released(): boolean {
    return this.refs < 0;
  }

  /** Records one in-place write into this memory. */
  markModified(): void {
    this.version++;
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) {
      this.refs = -1;
      liveBytes -= this.buffer.size * bytesPerElement(this.buffer.dtype);
      liveBuffers--;
      this.backend.disposeBuffer(this.buffer);
    }
  }
}

/** Bytes and buffers held by all storages core knows of. */
export function storageTotals(): { bytes: number; buffers: number } {
  return { bytes: liveBytes, buffers: liveBuffers };
}
