// Entry point of the wasm module: every exported kernel. Memory is imported (env.memory) and
// managed by the JavaScript allocator; nothing here allocates.
export * from './generated/reduce';
export * from './indexing';
export * from './matmul';
export * from './fused';
export * from './pointwise';

/** Start of the memory the JavaScript allocator may hand out (after the stack and statics). */
export function heapBase(): usize {
  return __heap_base;
}
