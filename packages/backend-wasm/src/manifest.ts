/**
 * The `wasm` backend's manifest: WebAssembly SIMD kernels (threads where allowed); preferred over cpu.
 * Also the package's `@nabla/backend-wasm/manifest` entry, which loads nothing until `create()`.
 */
import type { BackendManifest } from '@nabla/core';

/** Name, priority and loader of the `wasm` backend (read by `nabla`, the tests, the examples). */
export const manifest: BackendManifest = {
  name: 'wasm',
  priority: 2,
  package: '@nabla/backend-wasm',
  // The package by its own name: the manifest entry stays small, and the backend is one module
  // (in ESM and in CommonJS alike) whether it was imported directly or through the manifest.
  create: async () => (await import('@nabla/backend-wasm')).createWasmBackend(),
};
