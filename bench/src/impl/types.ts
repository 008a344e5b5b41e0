/** What every benchmarked implementation provides. */
import type { CaseId, Sizes } from '../spec.js';

/** A case ready to run: `step` is one timed iteration, inputs already on the device. */
export interface Prepared {
  /** One iteration, ending when its result is on the host (may return a promise). */
  step(): unknown;
  /**
   * What the latest step read back to the host (W1: the loss, W2: dγ, W3: C, W4: the logits),
   * kept by reference (no extra copy in the timed region), so tests can check that every
   * implementation computes the same numbers.
   */
  probe(): ArrayLike<number>;
  /** Frees what `prepare` allocated. */
  dispose?(): void;
}

/** One implementation (a library on one device). */
export interface Impl {
  /** Stable id used on the command line and in results, e.g. `nabla-cpu`, `tfjs-wasm`. */
  readonly id: string;
  /** Library and version, e.g. `@tensorflow/tfjs 4.22.0`. */
  readonly library: string;
  /** Facts worth printing: threads, SIMD, BLAS. */
  readonly info: Record<string, string | number | boolean>;
  /** Where this implementation differs from the spec, per case (`*` = all cases). */
  readonly notes: Partial<Record<CaseId | '*', string>>;
  /**
   * `true` when the case runs; a string is the reason it is skipped (reported); `false` means
   * the case does not apply to this implementation at all (omitted from the report).
   */
  supports(id: CaseId): boolean | string;
  prepare(id: CaseId, sizes: Sizes): Promise<Prepared>;
  /**
   * Runs `steps` more steps of a prepared case with the library's device calls counted, and
   * returns the counts per step (Nabla only: its backend is wrapped by `countBackendCalls`).
   * Called after the timed loop, never inside it.
   */
  countSteps?(prepared: Prepared, steps: number): Promise<StepCounters>;
  /** Releases the device. */
  close?(): Promise<void> | void;
}

/** Thrown by a factory when the implementation cannot run here; the message is the reason. */
export class SkipError extends Error {}

/** What one step asked of the device, per step (averaged over the counted steps). */
export interface StepCounters {
  /** Every call into the backend: kernels, allocations, frees, writes, reads. */
  calls: number;
  /** Calls that run a kernel. */
  kernels: number;
  /** Device buffers allocated. */
  allocs: number;
  /** Device buffers freed. */
  frees: number;
  /** WebGPU: compute dispatches encoded (absent on other backends). */
  dispatches?: number;
  /** WebGPU: queue submits. */
  submits?: number;
  /** WebGPU: bind groups created (a compiled replay reuses its own). */
  bind_groups?: number;
  /** Calls per backend method. */
  by_method: Record<string, number>;
}
