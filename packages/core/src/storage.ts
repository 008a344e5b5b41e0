/**
 * Device memory shared by a tensor and its views. A storage is reference-counted: each
 * live tensor (and each tensor saved for backward) holds one reference; the backend buffer
 * is returned when the last one goes.
 */
import { type Backend, type BackendBuffer, bytesPerElement, type DType } from './backend.js';

let liveBytes = 0;
/**
 * The storage owning a buffer, kept on the buffer object itself (a compiled program looks its
 * state up by buffer). A WeakMap entry per allocation cost about 1.7 µs in the collector's
 * ephemeron upkeep, a fifth of a W5 step's 30 allocations; a property costs nothing there.
 */
const OWNER = Symbol('nabla.storage');
type Owned = BackendBuffer & { [OWNER]?: Storage };
let liveBuffers = 0;

export class Storage {
  private refs = 0;
  /**
   * Bumped by every in-place write (`assign`, `pointwiseInto`, optimizer updates): PyTorch's
   * version counter. Autograd remembers it for saved tensors and refuses a backward pass that
   * would read values changed since the forward pass.
   */
  version = 0;

  /**
   * The smallest and largest value of an int32 storage whose every element came from the host
   * (`tensor(...)`), or null when unknown. Index checks read it instead of reading the device
   * back; any in-place write forgets it.
   */
  knownRange: { readonly min: number; readonly max: number } | null = null;

  constructor(
    readonly backend: Backend,
    readonly buffer: BackendBuffer,
  ) {
    liveBytes += buffer.size * bytesPerElement(buffer.dtype);
    liveBuffers++;
    (buffer as Owned)[OWNER] = this;
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

  /** Owners holding this storage (tensors, saved tensors, compiled programs). @internal */
  get refCount(): number {
    return this.refs;
  }

  /** Records one in-place write into this memory. */
  markModified(): void {
    this.version++;
    this.knownRange = null;
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

/** The live storage owning `buffer`, if any. @internal */
export function storageOf(buffer: BackendBuffer): Storage | undefined {
  const s = (buffer as Owned)[OWNER];
  return s && !s.released ? s : undefined;
}

/** Bytes and buffers held by all storages core knows of. */
export function storageTotals(): { bytes: number; buffers: number } {
  return { bytes: liveBytes, buffers: liveBuffers };
}
