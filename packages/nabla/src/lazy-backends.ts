import { type Backend, initBackend, listBackends, registerBackend } from '@nabla/core';

/** A backend package loaded on first use: its name, priority and how to create it. */
interface LazyBackend {
  readonly name: string;
  readonly priority: number;
  readonly create: () => Promise<Backend>;
}

// Priorities match what each backend package registers itself with, so `ready()` picks the
// same backend whether the user imported `nabla` or the backend packages.
const LAZY: readonly LazyBackend[] = [
  {
    name: 'cpu',
    priority: 1,
    create: async () => (await import('@nabla/backend-cpu')).createCpuBackend(),
  },
  {
    name: 'wasm',
    priority: 2,
    create: async () => (await import('@nabla/backend-wasm')).createWasmBackend(),
  },
  {
    name: 'webgpu',
    priority: 0,
    create: async () => (await import('@nabla/backend-webgpu')).createWebGpuBackend(),
  },
];

/**
 * Registers every backend that is not registered yet with a factory that imports its package
 * on first use. A name already registered (the user imported the backend package first) is
 * left alone: replacing it would drop an already active instance.
 */
export function registerLazyBackends(): void {
  const known = new Set(listBackends());
  for (const lazy of LAZY) {
    if (known.has(lazy.name)) continue;
    registerBackend(lazy.name, () => loadOnce(lazy), { priority: lazy.priority });
  }
}

async function loadOnce(lazy: LazyBackend): Promise<Backend> {
  // Importing the package registers its own factory under the same name, replacing this entry
  // while it is still starting. Re-register the instance created here and start that entry too,
  // so the registry holds exactly one instance (memory() and a second setBackend see it).
  const instance = await lazy.create();
  registerBackend(lazy.name, async () => instance, { priority: lazy.priority });
  return initBackend(lazy.name);
}
