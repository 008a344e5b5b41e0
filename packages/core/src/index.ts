/**
 * `@nabla/core`: tensors, reverse-mode autograd, memory scopes and the backend interface.
 * @packageDocumentation
 */
export * from './backend.js';
export { isGradEnabled, noGrad, GradNode } from './autograd.js';
export { memory, type MemoryInfo } from './memory.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export {
  type BackendFactory,
  getBackend,
  initBackend,
  listBackends,
  ready,
  registerBackend,
  setBackend,
} from './registry.js';
export { keep, tidy } from './scope.js';
export { broadcastShapes, contiguousStrides, type Shape, sizeOf } from './shape.js';
export { Tensor, type TensorOrScalar } from './tensor.js';
export {
  abs, adamStep, add, arange, argmax, argmin, assign, batchNormBackward, batchNormTrain, type BatchNormTrainResult,
  cast, clamp, clone, composedOnly, concat, contiguous, type CreateOptions, div, eq, exp, expand, eye, flatten,
  full, gather, ge, gt, le, linear, log, logSoftmax, logSumExp, lt, matmul, max, maximum, mean, min, minimum,
  mul, ne, neg, type NestedArray, oneHot, ones, onesLike, permute, pow, rand, randint, randn, reciprocal, relu,
  reshape, rsqrt, sgdStep, sigmoid, sign, slice, softmax, softmaxCrossEntropy, sqrt, square, squeeze, stack, std,
  sub, sum, tanh, tensor, transpose, uniform, unsqueeze, variance, type VarianceOptions, view, where, zeros, zerosLike,
} from './ops/index.js';
