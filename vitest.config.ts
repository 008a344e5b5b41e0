import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { findVulkanDriver, makeReportDir } from './tools/test-setup/backends.js';

// WebGPU needs a Vulkan driver: use SwiftShader where it is installed and nothing else is, so a
// plain `npm test` tests every backend. Set here, before the test workers start (they inherit it).
findVulkanDriver();
makeReportDir();

// Tests import every @nabla package from its TypeScript source, not from dist/, so an edit is
// tested without a rebuild. (The wasm package's generated kernels still come from its build.)
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const packages: Record<string, string> = {
  '@nabla/core': 'packages/core/src/index.ts',
  '@nabla/backend-cpu': 'packages/backend-cpu/src/index.ts',
  '@nabla/backend-wasm': 'packages/backend-wasm/src/index.ts',
  '@nabla/backend-webgpu': 'packages/backend-webgpu/src/index.ts',
  '@nabla/backend-cpu/manifest': 'packages/backend-cpu/src/manifest.ts',
  '@nabla/backend-wasm/manifest': 'packages/backend-wasm/src/manifest.ts',
  '@nabla/backend-webgpu/manifest': 'packages/backend-webgpu/src/manifest.ts',
  '@nabla/nn': 'packages/nn/src/index.ts',
  '@nabla/optim': 'packages/optim/src/index.ts',
  '@nabla/interop': 'packages/interop/src/index.ts',
  '@nabla/test-kit': 'packages/test-kit/src/index.ts',
  nabla: 'packages/nabla/src/index.ts',
  'nabla/backends': 'packages/nabla/src/backends.ts',
};

export default defineConfig({
  resolve: {
    alias: Object.entries(packages).map(([find, path]) => ({
      find: new RegExp(`^${find.replace('/', '\\/')}$`),
      replacement: source(path),
    })),
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'examples/test/**/*.test.ts',
      'examples/web/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'tools/test/**/*.test.ts',
      'tools/docs/test/**/*.test.ts',
      'tools/test-setup/test/**/*.test.ts',
    ],
    testTimeout: 60_000,
    pool: 'forks',
    // Ends the run with one line naming any backend that was not under test, and how to get it.
    globalSetup: ['tools/test-setup/backends.ts'],
  },
});
