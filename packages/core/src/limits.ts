/**
 * Sizes checked before any work: a creation op refuses a shape too large for a tensor (the same
 * message on every backend) or for its backend's largest buffer, before it draws a random number
 * or allocates a byte. `randn([3e9])` fails at once instead of running for minutes.
 */
import { type Backend, bytesPerElement, type DType } from './backend.js';
import { formatShape, type Shape, sizeOf } from './shape.js';

/** The most elements one tensor may have on any backend (kernels index with 32-bit integers). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** Throws a RangeError, naming `op`, when `shape` of `dtype` cannot be allocated on `backend`. */
export function checkAllocation(op: string, shape: Shape, dtype: DType, backend: Backend): void {
  const n = sizeOf(shape);
  const bytes = n * bytesPerElement(dtype);
  if (n > MAX_ELEMENTS) {
    throw new RangeError(
      `${op}: shape ${formatShape(shape)} has ${n} elements (${gb(bytes)} of ${dtype}); ` +
        `a tensor holds at most ${MAX_ELEMENTS} elements`,
    );
  }
  const limit = backend.maxBufferBytes;
  if (limit !== undefined && bytes > limit) {
    throw new RangeError(
      `${op}: shape ${formatShape(shape)} needs ${bytes} bytes (${gb(bytes)} of ${dtype}); ` +
        `the '${backend.name}' backend holds at most ${limit} bytes (${gb(limit)}) in one tensor`,
    );
  }
}
