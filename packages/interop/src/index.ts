/**
 * `@nabla/interop`: moves Nabla models to and from PyTorch (safetensors with PyTorch's
 * state-dict names and dtypes) and ONNX Runtime (ONNX export), and folds BatchNorm into
 * Linear for inference.
 * @packageDocumentation
 */
export { fuseBatchNorm } from './fuse.js';
export { load, type SafetensorsSource, save } from './io.js';
export { exportOnnx, type OnnxExportOptions } from './onnx/export.js';
export type { Dim } from './onnx/schema.js';
export {
  type DecodedSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  type RawTensor,
  type SafetensorsDType,
  SafetensorsError,
} from './safetensors.js';
export { fromSafetensors, type LoadOptions, loadSafetensors, toSafetensors } from './state-dict.js';
