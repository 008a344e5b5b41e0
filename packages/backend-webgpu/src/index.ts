/**
 * `@nabla/backend-webgpu`: Nabla's WebGPU backend (WGSL compute shaders). Importing this
 * package registers the `'webgpu'` backend at priority 0, so it is used only when asked
 * for: `await setBackend('webgpu')`. Importing never fails where WebGPU is missing; the
 * device is opened (and the Node `webgpu` package loaded) only by `setBackend`.
 * @packageDocumentation
 */
import { registerBackend } from '@nabla/core';
import { createWebGpuBackend } from './backend.js';
import { manifest } from './manifest.js';

export type { WebGpuBackendOptions, WebGpuMemory } from './backend.js';
export { createWebGpuBackend, WebGpuBackend, WebGpuBuffer } from './backend.js';
export { manifest } from './manifest.js';

function register(): void {
  registerBackend(manifest.name, () => createWebGpuBackend(), { priority: manifest.priority });
}

/**
 * After the GPU device was lost (driver reset, `destroy()`), registers a fresh factory so the
 * next `await setBackend('webgpu')` opens a new device. Tensors on the lost device are gone;
 * using them keeps throwing a clear error.
 */
export function resetWebGpuBackend(): void {
  register();
}

register();
