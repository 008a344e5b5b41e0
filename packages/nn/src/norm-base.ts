/**
 * `NormBase`: the state of a batch-norm layer (PyTorch's `_NormBase`): the affine
 * parameters, the running statistics and their counter, and the two resets.
 */
import { full, noGrad, type Tensor, tidy, zeros } from '@nabla/core';
import { Module } from './module.js';

/** Sets every element of each tensor to its value, in place and outside autograd (shape, dtype and backend kept). */
function fillInPlace(fills: readonly [Tensor, number][]): void {
  noGrad(() =>
    tidy(() => {
      for (const [t, value] of fills) t.assign(full(t.shape, value, { dtype: t.dtype, backend: t.backend }));
    }),
  );
}

/** Options shared by the batch-norm layers. Defaults are PyTorch's. */
export interface BatchNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /**
   * Weight of each new batch in the running statistics: `running = (1 - momentum) · running
   * + momentum · batch` (default 0.1). Note: Keras/TF.js use the opposite convention. `null`
   * gives a cumulative average, weighting each batch by `1 / numBatchesTracked`.
   */
  momentum?: number | null;
  /** Learn a per-channel scale (`weight`, starts at 1) and shift (`bias`, starts at 0). Default true. */
  affine?: boolean;
  /** Keep running statistics for eval (default true). Without them, eval uses batch statistics. */
  trackRunningStats?: boolean;
}

/** Parameters and buffers of a batch-norm layer; subclasses add the forward. */
export abstract class NormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  /** See {@link BatchNormOptions.momentum}; may be changed between steps. */
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) {
      throw new Error(`${this.constructor.name}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    if (this.affine) {
      this.registerParameter('weight', zeros([numFeatures], { requiresGrad: true }));
      this.registerParameter('bias', zeros([numFeatures], { requiresGrad: true }));
    }
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', zeros([numFeatures]));
      this.registerBuffer('running_var', zeros([numFeatures]));
      this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
    }
    this.resetParameters();
  }

  /** Per-channel scale `[C]`, or null when `affine` is false. */
  get weight(): Tensor | null {
    return this.getParameter('weight');
  }

  /** Per-channel shift `[C]`, or null when `affine` is false. */
  get bias(): Tensor | null {
    return this.getParameter('bias');
  }

  /** Running mean `[C]`, or null when `trackRunningStats` is false. */
  get runningMean(): Tensor | null {
    return this.getBuffer('running_mean');
  }

  /** Running (unbiased) variance `[C]`, or null when `trackRunningStats` is false. */
  get runningVar(): Tensor | null {
    return this.getBuffer('running_var');
  }

  /** Training forwards seen so far: an int32 scalar, or null when `trackRunningStats` is false. */
  get numBatchesTracked(): Tensor | null {
    return this.getBuffer('num_batches_tracked');
  }

  /** Running mean to 0, running variance to 1, counter to 0 (in place). */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    fillInPlace([
      [this.runningMean!, 0],
      [this.runningVar!, 1],
      [this.numBatchesTracked!, 0],
    ]);
  }

  /** Resets the running statistics, then weight to 1 and bias to 0 (in place). */
  resetParameters(): void {
    this.resetRunningStats();
    if (!this.affine) return;
    fillInPlace([
      [this.weight!, 1],
      [this.bias!, 0],
    ]);
  }

  protected override extraRepr(): string {
    const py = (b: boolean) => (b ? 'True' : 'False');
    const eps = this.eps.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
    const momentum = this.momentum === null ? 'None' : String(this.momentum);
    return (
      `${this.numFeatures}, eps=${eps}, momentum=${momentum}, affine=${py(this.affine)}, ` +
      `track_running_stats=${py(this.trackRunningStats)}`
    );
  }
}
