// The one tsup configuration of the published packages: ESM and CJS builds with declarations
// and source maps for ES2022. `library` serves plain packages; `backend` adds what a backend
// package needs (its lazy manifest entry).
import { defineConfig } from 'tsup';

/** In the CJS build, load packages with require() rather than import(): import() from CJS would
 * load the ESM build, which registers into the ESM copy of @nabla/core. */
function requireInCjs(options, { format }) {
  if (format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
}

/**
 * A package built from `entry` (default `src/index.ts`). Options: `keepNames` (class names
 * survive bundling), `dts` (tsup's `dts` option), `lazyImports` (the package loads others with
 * `import()`: keep that a `require()` in the CJS build).
 * @param {{ entry?: string[]; keepNames?: boolean; dts?: boolean | object; lazyImports?: boolean; external?: string[] }} [o]
 */
export function library(o = {}) {
  return defineConfig({
    entry: o.entry ?? ['src/index.ts'],
    ...(o.external ? { external: o.external } : {}),
    format: ['esm', 'cjs'],
    dts: o.dts ?? true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    ...(o.keepNames ? { keepNames: true } : {}),
    ...(o.lazyImports ? { esbuildOptions: requireInCjs } : {}),
  });
}

/**
 * A backend package `name`: its entry and its manifest, a small entry of its own so readers of
 * backend names need not load the backend. The manifest loads the package by its own name
 * (see the backends' src/manifest.ts), so that import is never bundled.
 * @param {string} name
 * @param {{ dts?: boolean | object }} [o]
 */
export function backend(name, o = {}) {
  return library({
    entry: ['src/index.ts', 'src/manifest.ts'],
    external: [name],
    lazyImports: true,
    dts: o.dts,
  });
}
