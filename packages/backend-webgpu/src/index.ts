/**
 * `@nabla/backend-webgpu`: Nabla's WebGPU backend (WGSL compute shaders). Importing this
 * package registers the `'webgpu'` backend at priority 0, so it is used only when asked
 * for: `await setBackend('webgpu')`. Importing never fails where WebGPU is missing; the
 * device is opened (and the Node `webgpu` package loaded) only by `setBackend`.
 * @packageDocumentation
 */
import { registerBackend } from '@nabla/core';
import { createWebGpuBackend } from './backend.js';

export type { WebGpuBackendOptions, WebGpuMemory } from './backend.js';
export { createWebGpuBackend, WebGpuBackend, WebGpuBuffer } from './backend.js';

function register(): void {
  registerBackend(
    'webgpu',
    // A lost device re-registers the factory, so the next setBackend('webgpu') opens a new one.
    () => createWebGpuBackend({ onDeviceLost: () => register() }),
    { priority: 0 },
  );
}

register();
