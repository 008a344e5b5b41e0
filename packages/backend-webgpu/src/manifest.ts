/**
 * The `webgpu` backend's manifest: WGSL compute shaders; priority 0: used only when asked for (it may need a GPU driver).
 * Also the package's `@nabla/backend-webgpu/manifest` entry, which loads nothing until `create()`.
 */
import type { BackendManifest } from '@nabla/core';

/** Name, priority and loader of the `webgpu` backend (read by `nabla`, the tests, the examples). */
export const manifest: BackendManifest = {
  name: 'webgpu',
  priority: 0,
  package: '@nabla/backend-webgpu',
  // The package by its own name: the manifest entry stays small, and the backend is one module
  // (in ESM and in CommonJS alike) whether it was imported directly or through the manifest.
  create: async () => (await import('@nabla/backend-webgpu')).createWebGpuBackend(),
};
