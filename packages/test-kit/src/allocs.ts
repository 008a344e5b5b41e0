/**
 * Counting what a backend is asked to do: its allocations (a replayed step allocates nothing)
 * and its kernel calls by name (a fused op is the kernels it claims).
 */
import { type Backend, countBackendCalls } from '@nabla/core';

/** How many times `backend.alloc` is called while `fn` runs; the backend's own `alloc` is restored after. */
export function countAllocs(backend: Pick<Backend, 'alloc'>, fn: () => void): number {
  const original = backend.alloc;
  let n = 0;
  backend.alloc = (size, dtype) => {
    n++;
    return original.call(backend, size, dtype);
  };
  try {
    fn();
  } finally {
    backend.alloc = original;
  }
  return n;
}

/** The kernel calls made while `fn` runs, by kernel name (allocations, reads and writes left out). */
export function countKernels(backend: Backend, fn: () => void): Record<string, number> {
  const counter = countBackendCalls(backend);
  try {
    fn();
    const { byMethod } = counter.snapshot();
    return Object.fromEntries(Object.entries(byMethod).filter(([k]) => k in backend.kernels));
  } finally {
    counter.stop();
  }
}
