/**
 * Bad inputs that only the device sees. cpu and wasm check class targets on the host before a
 * kernel runs; WebGPU cannot read them synchronously, so a kernel that meets one (an
 * out-of-range target in cross-entropy) reports it in a small flag buffer instead, and the
 * next read-back, which waits for the device anyway, copies the flags along and throws the
 * error there, naming the op. No read is added to a step: the flags travel with the loss.
 *
 * Flag words: [0] how many rows were bad, [1] the first bad row (atomicMin; starts at
 * 0xffffffff), [2] the class count of the call.
 */
import { STORAGE_USAGE } from './pool.js';

const MAP_READ_USAGE = 0x01 /* MAP_READ */ | 0x08; /* COPY_DST */
const MAP_MODE_READ = 0x0001;
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

/** A copy of the flags taken at a read, to be checked when the read completes. */
export interface PendingCheck {
  /** Throws the reported error, if any, and clears the flags. */
  verify(): Promise<void>;
}

export class DeviceErrors {
  private buffer: GPUBuffer | null = null;
  /** The op whose dispatches may have reported since the last read copied the flags. */
  private pendingOp: string | null = null;

  constructor(private readonly device: GPUDevice) {}

  /** The flag buffer, for a dispatch of `op` that may report into it. */
  bufferFor(op: string): GPUBuffer {
    if (this.buffer === null) {
      this.buffer = this.device.createBuffer({
        size: WORDS * 4,
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

  /** When something may have reported: copies the flags after the pending work (null if nothing ran). */
  copyInto(encoder: GPUCommandEncoder): PendingCheck | null {
    if (this.pendingOp === null || this.buffer === null) return null;
    const op = this.pendingOp;
    this.pendingOp = null;
    const flags = this.buffer;
    const staging = this.device.createBuffer({
      size: WORDS * 4,
      usage: MAP_READ_USAGE,
      label: 'nabla-device-errors-read',
    });
    encoder.copyBufferToBuffer(flags, 0, staging, 0, WORDS * 4);
    return {
      verify: async () => {
        try {
          await staging.mapAsync(MAP_MODE_READ);
          const [bad, row, classes] = new Uint32Array(staging.getMappedRange().slice(0));
          staging.unmap();
          if (bad === 0) return;
          // every command that could report was submitted before this read: clearing now is safe
          this.device.queue.writeBuffer(flags, 0, INITIAL);
          // cpu's and wasm's message, without the value (the device reports only where)
          throw new Error(
            `${op}: index at position ${row} is out of bounds for dimension of size ${classes} ` +
              `(expected 0 <= index < ${classes})${bad > 1 ? `, and ${bad - 1} more` : ''}; ` +
              'WebGPU finds it on the device, so it is reported at the next read',
          );
        } finally {
          staging.destroy();
        }
      },
    };
  }

  destroy(): void {
    this.buffer?.destroy();
    this.buffer = null;
  }
}
