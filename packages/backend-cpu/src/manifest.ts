/**
 * The `cpu` backend's manifest: the pure TypeScript backend: runs everywhere; the fallback when no faster backend starts.
 * Also the package's `@nabla/backend-cpu/manifest` entry, which loads nothing until `create()`.
 */
import type { BackendManifest } from '@nabla/core';

/** Name, priority and loader of the `cpu` backend (read by `nabla`, the tests, the examples). */
export const manifest: BackendManifest = {
  name: 'cpu',
  priority: 1,
  package: '@nabla/backend-cpu',
  // The package by its own name: the manifest entry stays small, and the backend is one module
  // (in ESM and in CommonJS alike) whether it was imported directly or through the manifest.
  create: async () => (await import('@nabla/backend-cpu')).createCpuBackend(),
};
