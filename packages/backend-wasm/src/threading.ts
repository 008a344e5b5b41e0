/**
 * When a kernel is worth a second thread, and how long an idle thread spins before it sleeps.
 * Below the thresholds a kernel runs on the calling thread alone: handing work to a worker
 * costs a wake-up (a futex round trip when the worker sleeps) plus the split's overhead, more
 * than the work itself at small-MLP sizes. The figures that chose the defaults are in
 * {@link DEFAULT_THREADING}'s comment and the package README.
 */

/** Thread-pool tuning of one backend (see `WasmBackendOptions.threading`). */
export interface Threading {
  /** A matmul (or fused linear) with fewer multiply-adds (batch·m·n·k) runs on the calling thread. */
  readonly minParallelMacs: number;
  /** Elementwise kernels, reductions and fused kernels over fewer elements run on the calling thread. */
  readonly minParallelElements: number;
  /**
   * Microseconds an idle worker (and the caller waiting for workers) spins before blocking in
   * `Atomics.wait`. Short, so a worker does not burn a core while the caller runs small kernels
   * alone; a sleeping worker costs one wake-up on the next parallel kernel, which the
   * thresholds above make small next to the kernel.
   */
  readonly spinMicros: number;
}

/**
 * Defaults, chosen by measurement: `node packages/backend-wasm/scripts/bench-threshold.mjs`
 * (2-core VM, Node 20, 2026-12-04, a busy machine: other processes used 80% of the CPU; µs,
 * medians of 40; "split" = 2 threads with the worker asleep before the call, as in a step):
 *
 * | kernel | 1 thread | split | | kernel | 1 thread | split |
 * |---|---:|---:|---|---|---:|---:|
 * | matmul 32·64·32 (65 k MACs) | 5.0 | 47.5 | | add 4 k elements | 5.2 | 44.8 |
 * | matmul 64·64·64 (262 k) | 13.3 | 21.4 | | add 262 k | 39.2 | 88.2 |
 * | matmul 64·128·64 (524 k) | 25.6 | 41.3 | | add 1 M | 159 | 226 |
 * | matmul 128³ (2.1 M) | 97.4 | 139 | | sum 262 k | 14.9 | 52.1 |
 * | matmul 160³ (4.1 M) | 192 | 242 | | sum 1 M | 56.0 | 97.5 |
 * | matmul 64·128·784 (6.4 M, W6) | 334 | 403 | | | | |
 * | matmul 256³ (16.8 M) | 811 | 852 | | | | |
 *
 * Handing a share to a sleeping worker costs about 40–50 µs here (4 k-element add: 5 → 45 µs),
 * and a second core is worth at most half the time. So a kernel splits only when one thread
 * would take about four hand-offs (≈ 200 µs): matmuls from 2²² ≈ 4.2 M multiply-adds (160³
 * takes 192 µs), elementwise kernels and reductions from 2²⁰ elements (add: 159 µs); the
 * batch-norm kernels, several passes over their input, from a quarter of that. The previous
 * thresholds (2¹⁸ for both) split W5/W6-sized kernels that ran 1.5–10× slower split. On a
 * quiet machine a hand-off is cheaper and a split gains more (W3 1024³: 40 → 80 GFLOP/s), so
 * these thresholds are conservative; re-run the script there before lowering them. Since the
 * caller runs any share no worker has claimed yet (work stealing), a late worker costs the
 * hand-off, not a wait. Idle threads spin 50 µs (covering a small kernel between two large
 * ones), then sleep in `Atomics.wait`: at most 50 µs of a core per split kernel.
 */
export const DEFAULT_THREADING: Threading = {
  minParallelMacs: 1 << 22,
  minParallelElements: 1 << 20,
  spinMicros: 50,
};

/** Validates user overrides and fills the rest from the defaults. */
export function resolveThreading(o: Partial<Threading> = {}): Threading {
  const t = { ...DEFAULT_THREADING, ...o };
  for (const [k, v] of Object.entries(t)) {
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))
      throw new Error(`wasm backend: threading.${k} must be a finite number ≥ 0, got ${String(v)}`);
  }
  return t;
}
