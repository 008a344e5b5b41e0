/**
 * Which of a backend object's methods are kernels: the one answer the call counter
 * (`count-calls.ts`) and the compile recording (`compile/capture.ts`) both use.
 */
import type { Backend } from './backend.js';

/** Backend methods that manage memory, move data or the device's life cycle: not kernels. */
const NOT_KERNELS: ReadonlySet<string> = new Set([
  'alloc',
  'disposeBuffer',
  'write',
  'read',
  'readSync',
  'sync',
  'flush',
  'memory',
  'destroy',
  'prepare',
]);

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

/** True for a method that runs a kernel (not storage, I/O or life cycle; not `_private`). */
export function isKernelMethod(name: string): boolean {
  return !NOT_KERNELS.has(name) && !name.startsWith('_');
}
