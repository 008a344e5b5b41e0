import { backend } from '../../tools/tsup-preset.mjs';

// The declarations name GPUDevice, GPUBuffer, ...: point them at @webgpu/types (a dependency).
export default backend('@nabla/backend-webgpu', {
  dts: { banner: '/// <reference types="@webgpu/types" />' },
});
