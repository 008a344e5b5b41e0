import { type Backend, type BackendManifest, initBackend, listBackends, registerBackend } from '@nabla/core';
import { backendManifests } from './backends.js';

// The priorities come from each package's manifest, the ones it registers itself with, so
// `ready()` picks the same backend whether the user imported `nabla` or the backend packages.

/**
 * Registers every backend that is not registered yet with a factory that imports its package
 * on first use. A name already registered (the user imported the backend package first) is
 * left alone: replacing it would drop an already active instance.
 */
export function registerLazyBackends(): void {
  const known = new Set(listBackends());
  for (const lazy of backendManifests) {
    if (known.has(lazy.name)) continue;
    registerBackend(lazy.name, () => loadOnce(lazy), { priority: lazy.priority });
  }
}

async function loadOnce(lazy: BackendManifest): Promise<Backend> {
  // Importing the package registers its own factory under the same name, replacing this entry
  // while it is still starting. Re-register the instance created here and start that entry too,
  // so the registry holds exactly one instance (memory() and a second setBackend see it).
  const instance = await lazy.create();
  registerBackend(lazy.name, async () => instance, { priority: lazy.priority });
  return initBackend(lazy.name);
}
