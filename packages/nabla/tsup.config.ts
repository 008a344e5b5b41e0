import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/backends.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // In the CJS build, load a backend with require() rather than import(): import() from CJS
  // would load the backend's ESM build, which registers into the ESM copy of @nabla/core.
  esbuildOptions(options, { format }) {
    if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
  },
});
