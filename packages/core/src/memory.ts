/** `memory()`: what is alive right now, for leak tests and dashboards. */
import type { BackendMemory } from './backend.js';
import { initializedBackends } from './registry.js';
import { collectedCount, liveTensorCount } from './scope.js';
import { storageTotals } from './storage.js';

/** Live tensors and device memory, in total and per backend. */
export interface MemoryInfo {
  /** Tensors not yet disposed (views and tensors saved for backward included). */
  tensors: number;
  /** Bytes of device buffers held by tensors. */
  bytes: number;
  /** Device buffers held by tensors. */
  buffers: number;
  /**
   * What each started backend reports it holds (pools and caches included where it has them),
   * with `reservedBytes` where the backend keeps memory it does not give back (the wasm heap).
   */
  backends: Record<string, BackendMemory>;
  /**
   * Tensors the garbage-collection safety net has released since the program started, and the
   * bytes and buffers that freed. Each was never disposed; a count that grows with the steps of a
   * loop means the loop leaves its memory to the collector, which frees it late. The sums
   * `tensors + collected.tensors` (and the same for bytes and buffers) move only when tensors are
   * made or disposed, so a leak check on them holds even when the collector runs in the middle of
   * it (it may, at any `await`).
   */
  collected: { tensors: number; bytes: number; buffers: number };
}

/** Live tensors and bytes, in total and per backend. A training loop should keep these flat. */
export function memory(): MemoryInfo {
  const totals = storageTotals();
  const backends: MemoryInfo['backends'] = {};
  for (const b of initializedBackends()) backends[b.name] = b.memory();
  return {
    tensors: liveTensorCount(),
    bytes: totals.bytes,
    buffers: totals.buffers,
    backends,
    collected: collectedCount(),
  };
}
