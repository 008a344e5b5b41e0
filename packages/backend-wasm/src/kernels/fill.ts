/** Fill: one constant into every element of a buffer. */
import type { FillArgs } from '@nabla/core';
import { own } from '../buffer.js';
import type { Runtime } from '../runtime.js';

/** The bits of a fill value in its buffer's dtype. */
const fillBits = new DataView(new ArrayBuffer(4));

/** Writes `value` (truncated for int32; non-finite gives 0) into every element of `out`. */
export function fill(rt: Runtime, { out, value }: FillArgs): void {
  const b = own(out, 'fill output');
  if (b.dtype === 'float32') fillBits.setFloat32(0, value, true);
  else fillBits.setInt32(0, Number.isFinite(value) ? Math.trunc(value) : 0, true);
  rt.call('fill32', b.ptr, b.size, fillBits.getInt32(0, true));
}
