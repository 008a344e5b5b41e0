/**
 * `@nabla/core`: tensors, reverse-mode autograd, memory scopes and the backend interface.
 * @packageDocumentation
 */

export { GradNode, isGradEnabled, noGrad } from './autograd.js';
export * from './backend.js';
export { type CompiledFunction, type CompileOptions, type CompileStats, compile } from './compile/compile.js';
export { guardValue, hostEffect, isCapturing, type ScalarArg } from './compile/hooks.js';
export {
  type BackendCallCounter,
  type BackendCallCounts,
  countBackendCalls,
} from './count-calls.js';
export * from './expr/index.js';
export { checkPointwiseArgs, checkReduceArgs } from './kernel-args.js';
export type { BackendManifest } from './manifest.js';
export { type MemoryInfo, memory } from './memory.js';
export { moveTensors } from './move.js';
export { type GeluOptions, gelu, leakyRelu, silu } from './ops/activations.js';
// Elementwise ops: every export of that file is public (adding an op there exports it).
export * from './ops/elementwise.js';
export {
  arange,
  argmax,
  argmin,
  assign,
  type BatchNormTrainResult,
  batchNormBackward,
  batchNormDims,
  batchNormTrain,
  type CreateOptions,
  checkClassTargets,
  checkLinearShapes,
  clone,
  composedOnly,
  concat,
  contiguous,
  expand,
  eye,
  flatten,
  full,
  gather,
  keptRows,
  linear,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  mean,
  meanOverKeptRows,
  min,
  type NestedArray,
  oneHot,
  ones,
  onesLike,
  permute,
  rand,
  randint,
  randn,
  reshape,
  type SoftmaxCrossEntropyOptions,
  slice,
  softmax,
  softmaxCrossEntropy,
  squeeze,
  stack,
  std,
  sum,
  tensor,
  transpose,
  uniform,
  unsqueeze,
  type VarianceOptions,
  variance,
  view,
  zeros,
  zerosLike,
} from './ops/index.js';
export { type PointwiseCall, pointwise, pointwiseInto, pointwiseIntoEach } from './ops/pointwise.js';
export {
  type ReduceEpilogue,
  type ReduceProgramOptions,
  reduceProgram,
} from './ops/reduce-program.js';
export { defaultGenerator, Generator, manualSeed } from './random.js';
export { reduceStaged } from './reduce-staged.js';
export {
  type BackendFactory,
  getBackend,
  initBackend,
  listBackends,
  ready,
  registerBackend,
  setBackend,
  withBackend,
} from './registry.js';
export { keep, tidy } from './scope.js';
export { broadcastShapes, contiguousStrides, type Shape, sameShape, sizeOf } from './shape.js';
export { Tensor, type TensorJSON, type TensorOrScalar } from './tensor.js';
