/**
 * What every op with a fused backend kernel shares (batch norm, linear, the cross-entropy
 * forward): the switch between the backend's kernel and core's composition of primitives,
 * and the hand-over of dense buffers. Both paths give the same numbers; the conformance suite
 * checks it, with `composedOnly` forcing the composition.
 */
import type { Backend, BackendBuffer, FusedKernel } from '../backend.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { dense } from './views.js';

let forceComposed = 0;

/** Runs `fn` with every fused kernel disabled, so ops take their composed path (for tests and debugging). */
export function composedOnly<T>(fn: () => T): T {
  forceComposed++;
  try {
    return fn();
  } finally {
    forceComposed--;
  }
}

/** @internal True when `backend`'s kernel table has `kernel` and `composedOnly` is not in force. */
export function hasFused(backend: Backend, kernel: FusedKernel): boolean {
  return forceComposed === 0 && backend.kernels[kernel] !== undefined;
}

/**
 * @internal Calls a fused kernel with the buffers of `tensors` made dense (null stays null; a
 * tensor that already owns row-major memory is passed as is), then frees the copies it made.
 * The buffers arrive as separate arguments, in the order of `tensors`.
 */
export function withDenseBuffers<T>(
  op: string,
  tensors: readonly (Tensor | null)[],
  kernel: (...buffers: (BackendBuffer | null)[]) => T,
): T {
  const n = tensors.length;
  const denseTensors = new Array<Tensor | null>(n);
  const buffers = new Array<BackendBuffer | null>(n);
  try {
    for (let i = 0; i < n; i++) {
      const t = tensors[i];
      const d = t && dense(t);
      denseTensors[i] = d;
      buffers[i] = d ? d.storageFor(op).buffer : null;
    }
    return kernel.apply(undefined, buffers);
  } finally {
    for (let i = 0; i < n; i++) {
      const d = denseTensors[i];
      if (d && d !== tensors[i]) d.dispose();
    }
  }
}

/** @internal Throws unless `t` is null or a vector of `c` elements. */
export function checkVector(op: string, name: string, t: Tensor | null, c: number): void {
  if (t && (t.rank !== 1 || t.shape[0] !== c)) {
    throw new Error(`${op}: ${name} should have shape [${c}], got ${formatShape(t.shape)}`);
  }
}
