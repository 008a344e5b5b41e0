/**
 * `@nabla/nn`: layers, losses and initialisers with PyTorch's semantics, on `@nabla/core`.
 * @packageDocumentation
 */
export { ReLU } from './activation.js';
export { BatchNorm } from './batch-norm.js';
export { BatchNorm1d } from './batch-norm-1d.js';
export { Dropout } from './dropout.js';
export { Flatten } from './flatten.js';
export * as functional from './functional.js';
export * as init from './init.js';
export { Linear, type LinearOptions } from './linear.js';
export { CrossEntropyLoss, MSELoss } from './loss.js';
export { type LoadStateDictOptions, type LoadStateDictResult, Module, type StateDict } from './module.js';
export { type BatchNormOptions, NormBase } from './norm-base.js';
export { Sequential } from './sequential.js';
