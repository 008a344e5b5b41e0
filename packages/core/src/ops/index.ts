/** Every op, as a function. `Tensor` methods delegate here. */
export * from './creation.js';
export * from './elementwise.js';
export * from './fused.js';
export * from './indexing.js';
export * from './matmul.js';
export * from './reduce.js';
export * from './softmax.js';
export * from './views.js';
