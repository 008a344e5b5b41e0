/**
 * `@nabla/nn`: layers, losses and initialisers with PyTorch's semantics, on `@nabla/core`.
 * @packageDocumentation
 */
export {
  GELU,
  type GELUOptions,
  LeakyReLU,
  type LeakyReLUOptions,
  LogSoftmax,
  ReLU,
  Sigmoid,
  SiLU,
  Softmax,
  type SoftmaxOptions,
  Tanh,
} from './activation.js';
export { BatchNorm } from './batch-norm.js';
export { BatchNorm1d } from './batch-norm-1d.js';
export { type ClipGradNormOptions, clipGradNorm, clipGradValue } from './clip-grad.js';
export { DataLoader, type DataLoaderOptions, TensorDataset } from './data.js';
export { Dropout } from './dropout.js';
export { Flatten } from './flatten.js';
export * as functional from './functional.js';
export * as init from './init.js';
export { LayerNorm, type LayerNormOptions } from './layer-norm.js';
export { Linear, type LinearOptions } from './linear.js';
export { CrossEntropyLoss, MSELoss } from './loss.js';
export {
  BCELoss,
  type BCELossOptions,
  BCEWithLogitsLoss,
  type BCEWithLogitsLossOptions,
  HuberLoss,
  L1Loss,
  NLLLoss,
  SmoothL1Loss,
} from './losses.js';
export { type LoadStateDictOptions, type LoadStateDictResult, Module, type StateDict } from './module.js';
export { type BatchNormOptions, NormBase } from './norm-base.js';
export { Sequential } from './sequential.js';
export { type Summary, type SummaryRow, summary } from './summary.js';
