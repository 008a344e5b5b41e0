/**
 * `@nabla/backend-wasm`: a WebAssembly SIMD backend for Nabla. Importing the package
 * registers the `'wasm'` backend (priority 2, above `cpu`).
 *
 * ```ts
 * import { setBackend, tensor } from '@nabla/core';
 * import '@nabla/backend-wasm';
 * await setBackend('wasm');
 * ```
 * @packageDocumentation
 */
import { registerBackend } from '@nabla/core';
import { createWasmBackend } from './backend.js';
import { manifest } from './manifest.js';

export { createWasmBackend, WasmBackend, type WasmBackendOptions } from './backend.js';
export { manifest } from './manifest.js';

registerBackend(manifest.name, () => createWasmBackend(), { priority: manifest.priority });
