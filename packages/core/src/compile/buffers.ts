/**
 * Finding the buffers in recorded calls: an argument object holds its buffers in fields,
 * arrays and plain objects (views), which the planner and both fusion passes search alike.
 */
import type { BackendBuffer } from '../backend.js';
import type { RecordedStep } from './capture.js';

/** A device buffer (an object with a numeric `size` and a `dtype`, not a plain object or array). */
export function isBackendBuffer(v: unknown): v is BackendBuffer {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  if (Object.getPrototypeOf(v) === Object.prototype) return false;
  const b = v as { size?: unknown; dtype?: unknown };
  return typeof b.size === 'number' && typeof b.dtype === 'string';
}

/** An array or plain object that may hold buffers. */
export const isContainer = (v: unknown): v is Record<string | number, unknown> =>
  Array.isArray(v) || (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype);

/** Calls `visit` for every buffer inside `value` (arrays and plain objects are searched). */
export function eachBuffer(value: unknown, visit: (b: BackendBuffer) => void): void {
  if (isBackendBuffer(value)) visit(value);
  else if (isContainer(value)) for (const key of Object.keys(value)) eachBuffer(value[key], visit);
}

/** True when `step` reads or writes one of `buffers` (host effects touch no buffer). */
export function touches(step: RecordedStep, buffers: ReadonlySet<BackendBuffer>): boolean {
  if (step.kind === 'effect') return false;
  if (step.kind !== 'call') return buffers.has(step.buffer);
  let found = false;
  eachBuffer(step.args, (b) => {
    if (buffers.has(b)) found = true;
  });
  return found;
}
