// Entry point of the wasm module: every exported kernel. Memory is imported (env.memory) and
// managed by the JavaScript allocator; nothing here allocates.
export * from './generated/reduce';
export * from './misc';
export * from './matmul';
export * from './fused';
export * from './pointwise';
