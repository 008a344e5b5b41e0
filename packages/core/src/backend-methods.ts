/**
 * Walking a backend object: its methods (storage, I/O, life cycle) and its kernel table. The
 * call counter (`count-calls.ts`) and the compile recording (`compile/capture.ts`) both wrap
 * them, and both put them back the same way.
 */
import type { Backend, KernelName, Kernels } from './backend.js';

/** Every method name of a backend and its prototype chain (accessors such as `stats` are data, not calls). */
export function backendMethodNames(backend: Backend): string[] {
  const names = new Set<string>();
  for (let o: object | null = backend; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d && typeof d.value === 'function') names.add(key);
    }
  }
  return [...names];
}

type KernelFn = (args: unknown) => void;

/**
 * Gives `backend` (as an own property) a kernel table whose present kernels are
 * `wrap(name, original)`, where `original` runs the kernel of the table it had. Absent optional
 * kernels stay absent, so core's choice of path does not change. Returns the undo.
 */
export function wrapKernels(
  backend: Backend,
  wrap: (name: KernelName, original: KernelFn) => KernelFn,
): () => void {
  const table = backend.kernels as unknown as Record<string, KernelFn | undefined>;
  const wrapped: Record<string, KernelFn> = {};
  for (const name in table) {
    const fn = table[name];
    if (typeof fn === 'function') wrapped[name] = wrap(name as KernelName, fn.bind(table));
  }
  const own = Object.getOwnPropertyDescriptor(backend, 'kernels');
  Object.defineProperty(backend, 'kernels', {
    configurable: true,
    enumerable: own?.enumerable ?? true,
    writable: true,
    value: wrapped as unknown as Kernels,
  });
  return () => {
    if (own) Object.defineProperty(backend, 'kernels', own);
    else delete (backend as unknown as Record<string, unknown>).kernels;
  };
}
