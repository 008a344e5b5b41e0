/** Counting a backend's allocations, for tests that a replayed step allocates nothing. */
import type { Backend } from '@nabla/core';

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
