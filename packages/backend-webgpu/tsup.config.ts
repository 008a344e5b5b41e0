import { defineConfig } from 'tsup';

export default defineConfig({
  // The manifest is its own small entry: readers of backend names need not load the backend.
  entry: ['src/index.ts', 'src/manifest.ts'],
  // The manifest loads the package by its own name (see src/manifest.ts): never bundle that.
  external: ['@nabla/backend-webgpu'],
  format: ['esm', 'cjs'],
  // The declarations name GPUDevice, GPUBuffer, ...: point them at @webgpu/types (a dependency).
  dts: { banner: '/// <reference types="@webgpu/types" />' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // In the CJS build, load the package with require() rather than import(): import() from CJS
  // would load the ESM build, which registers into the ESM copy of @nabla/core.
  esbuildOptions(options, { format }) {
    if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
  },
});
