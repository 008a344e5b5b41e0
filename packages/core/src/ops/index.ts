/** Every op, as a function. `Tensor` methods delegate here. */
export * from './creation.js';
export * from './elementwise.js';
export { composedOnly } from './fused-kernels.js';
export * from './indexing.js';
export * from './linear.js';
export * from './loss.js';
export * from './matmul.js';
export * from './norm.js';
export * from './reduce.js';
export * from './softmax.js';
export * from './views.js';
