/** The leak check's numbers, steady when the garbage collector runs in the middle of a test. */
import { memory } from '@nabla/core';

/** Tensors, bytes and buffers made and never disposed (see {@link held}). */
export interface Held {
  tensors: number;
  bytes: number;
  buffers: number;
}

/**
 * What `memory()` counts as alive plus what the safety net has released: it moves only when a
 * tensor is made or disposed. `memory().tensors` alone also drops when the collector frees an
 * earlier test's leftovers, which it may do at any `await` (a webgpu read always turns the event
 * loop), so a before/after comparison across an `await` compares these instead. A tensor the
 * test forgets still counts, released by the collector or not.
 */
export function held(): Held {
  const m = memory();
  return {
    tensors: m.tensors + m.collected.tensors,
    bytes: m.bytes + m.collected.bytes,
    buffers: m.buffers + m.collected.buffers,
  };
}
