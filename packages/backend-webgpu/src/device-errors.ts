/**
 * Bad inputs that only the device sees. cpu and wasm check class targets on the host before a
 * kernel runs; WebGPU cannot read them synchronously, so a kernel that meets one (an
 * out-of-range target in cross-entropy) reports it in a small flag buffer instead, and the
 * next read-back, which waits for the device anyway, copies the flags into the same staging
 * buffer and throws the error there, naming the op. No read or mapping is added to a step.
 *
 * Flag words: [0] how many rows were bad, [1] the first bad row (atomicMin; starts at
 * 0xffffffff), [2] the class count of the call.
 */
import { STORAGE_USAGE } from './pool.js';

const WORDS = 4;
const INITIAL = new Uint32Array([0, 0xffffffff, 0, 0]);

/** WGSL declaration of the flag buffer at `binding`. */
export function deviceErrorsDecl(binding: number): string {
  return `@group(0) @binding(${binding}) var<storage, read_write> deviceErrors: array<atomic<u32>>;`;
}

/** WGSL statements reporting a bad `row` of a call with `classes` classes. */
export function reportBadTarget(row: string, classes: string): string {
  return `atomicAdd(&deviceErrors[0], 1u); atomicMin(&deviceErrors[1], ${row}); atomicStore(&deviceErrors[2], ${classes});`;
}

/** Bytes of the flags, as a read appends them to its staging buffer. */
export const DEVICE_ERROR_BYTES = WORDS * 4;

export class DeviceErrors {
  private buffer: GPUBuffer | null = null;
  /** The op whose dispatches may have reported since the last read copied the flags. */
  private pendingOp: string | null = null;

  constructor(private readonly device: GPUDevice) {}

  /** The flag buffer, for a dispatch of `op` that may report into it. */
  bufferFor(op: string): GPUBuffer {
    if (this.buffer === null) {
      this.buffer = this.device.createBuffer({
        size: DEVICE_ERROR_BYTES,
        usage: STORAGE_USAGE,
        mappedAtCreation: true,
        label: 'nabla-device-errors',
      });
      new Uint32Array(this.buffer.getMappedRange()).set(INITIAL);
      this.buffer.unmap();
    }
    this.pendingOp = op;
    return this.buffer;
  }

  /** The op whose report a read must copy along, or null when nothing could have reported. */
  get pending(): string | null {
    return this.buffer === null ? null : this.pendingOp;
  }

  /**
   * Copies the flags to `dst` at `offset` after the pending work (into the read's own staging
   * buffer, so the check costs no second mapping); call when {@link pending} is not null.
   */
  copyInto(encoder: GPUCommandEncoder, dst: GPUBuffer, offset: number): void {
    encoder.copyBufferToBuffer(this.buffer!, 0, dst, offset, DEVICE_ERROR_BYTES);
    this.pendingOp = null;
  }

  /** Throws what `words` (the flags as copied by {@link copyInto}) report for `op`, and clears them. */
  check(op: string, words: Uint32Array): void {
    const [bad, row, classes] = words;
    if (bad === 0) return;
    // every command that could report was submitted before the read: clearing now is safe
    this.device.queue.writeBuffer(this.buffer!, 0, INITIAL);
    // cpu's and wasm's message, without the value (the device reports only where)
    throw new Error(
      `${op}: index at position ${row} is out of bounds for dimension of size ${classes} ` +
        `(expected 0 <= index < ${classes})${bad > 1 ? `, and ${bad - 1} more` : ''}; ` +
        'WebGPU finds it on the device, so it is reported at the next read',
    );
  }

  destroy(): void {
    this.buffer?.destroy();
    this.buffer = null;
  }
}
