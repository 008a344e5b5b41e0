/**
 * A pool of GPU storage buffers keyed by size class. Disposing a tensor returns its buffer
 * here; the next allocation of the same class reuses it, so a training loop that allocates
 * the same shapes every step stops creating GPU buffers after its first step.
 */

/** Usage of every pooled storage buffer: kernels read/write it, writes and reads copy through it. */
export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */

/**
 * The size class of a request: the smallest `m * 2^e` (m in 4..7) bytes that holds it, so a
 * pooled buffer wastes under 25%. The minimum is 16 bytes: zero-size tensors still get a
 * real buffer to bind.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 16) return 16;
  const e = Math.floor(Math.log2(bytes)) - 2;
  const unit = 2 ** e;
  const m = Math.ceil(bytes / unit);
  return m * unit;
}

/** Free buffers by size class, with a cap on how many bytes may wait in the pool. */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pooledBytesValue = 0;
  private pooledCount = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxPooledBytes: number,
  ) {}

  /** A buffer of exactly `classBytes` bytes, reused when one is free. */
  acquire(classBytes: number, label: string): GPUBuffer {
    const list = this.free.get(classBytes);
    const reused = list?.pop();
    if (reused) {
      this.pooledBytesValue -= classBytes;
      this.pooledCount--;
      return reused;
    }
    return this.device.createBuffer({ size: classBytes, usage: STORAGE_USAGE, label });
  }

  /**
   * Takes a buffer back. Returns false when the pool is full; the caller then destroys it
   * (after pending commands that use it were submitted).
   */
  release(buffer: GPUBuffer, classBytes: number): boolean {
    if (this.pooledBytesValue + classBytes > this.maxPooledBytes) return false;
    let list = this.free.get(classBytes);
    if (!list) {
      list = [];
      this.free.set(classBytes, list);
    }
    list.push(buffer);
    this.pooledBytesValue += classBytes;
    this.pooledCount++;
    return true;
  }

  /** Bytes and buffers waiting for reuse. */
  get pooled(): { bytes: number; buffers: number } {
    return { bytes: this.pooledBytesValue, buffers: this.pooledCount };
  }

  /** Destroys every pooled buffer. */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytesValue = 0;
    this.pooledCount = 0;
  }
}
