/**
 * `nabla`: the whole framework in one import. Re-exports `@nabla/core` (tensors, autograd,
 * memory scopes, the backend registry), `@nabla/nn` (also as the `nn` namespace) and
 * `@nabla/optim` (also as `optim`), `@nabla/interop`'s save/load (also as `interop`), and registers the `cpu`, `wasm` and `webgpu` backends
 * lazily: a backend's package is loaded by the first `await setBackend(name)` that asks for it.
 *
 * ```ts
 * import { nn, optim, setBackend, tensor } from 'nabla';
 * await setBackend('cpu');
 * ```
 * @packageDocumentation
 */
import { registerLazyBackends } from './lazy-backends.js';

export * from '@nabla/core';
/** `@nabla/interop` as one namespace: `await interop.save(model, 'model.safetensors')`. */
export * as interop from '@nabla/interop';
/** Saving and loading weights (safetensors with PyTorch's names), ONNX export, BatchNorm folding. */
export {
  exportOnnx,
  fromSafetensors,
  fuseBatchNorm,
  load,
  loadSafetensors,
  SafetensorsError,
  save,
  toSafetensors,
} from '@nabla/interop';
export * from '@nabla/nn';
/** `@nabla/nn` as one namespace: `new nn.Linear(4, 2)`, `nn.functional.relu(x)`. */
export * as nn from '@nabla/nn';
export * from '@nabla/optim';
/** `@nabla/optim` as one namespace: `new optim.Adam(model.parameters())`. */
export * as optim from '@nabla/optim';
export { backendManifests, backendNames } from './backends.js';

registerLazyBackends();
