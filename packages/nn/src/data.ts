/**
 * Data loading: `TensorDataset` (tensors sharing their first dimension) and `DataLoader`
 * (batches of it, optionally shuffled by a seeded generator), like `torch.utils.data`.
 */
import { defaultGenerator, Generator, noGrad, type Tensor, tensor } from '@nabla/core';

/** Samples along the first dimension of one or more tensors (inputs, targets, weights, ...). */
export class TensorDataset {
  readonly tensors: readonly Tensor[];

  /** All tensors must have the same size along dim 0. The dataset does not own them. */
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new Error('TensorDataset: give at least one tensor');
    const n = tensors[0].rank === 0 ? -1 : tensors[0].shape[0];
    for (const t of tensors) {
      if (t.rank === 0 || t.shape[0] !== n) throw new Error('Size mismatch between tensors');
    }
    this.tensors = tensors;
  }

  /** The number of samples. */
  get length(): number {
    return this.tensors[0].shape[0];
  }
}

/** Options of {@link DataLoader}; defaults are PyTorch's. */
export interface DataLoaderOptions {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Draw a new random order every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Seed of the loader's own generator: the same seed gives the same orders, epoch after epoch. */
  seed?: number;
  /** A generator to draw orders from (instead of `seed`); default: the global one (`manualSeed`). */
  generator?: Generator;
}

/**
 * Iterates over a {@link TensorDataset} in batches: each item is one tensor per dataset
 * tensor, `[batch, ...rest]`, on the dataset's backend. The loader owns the batches it makes:
 * a batch is disposed when the next one is produced and when the loop ends (`break`
 * included), so an epoch leaves no tensors behind; `clone()` a batch to keep it longer.
 *
 * ```ts
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 32, shuffle: true, seed: 0 });
 * for (const [xb, yb] of loader) { ... }
 * ```
 */
export class DataLoader implements Iterable<Tensor[]> {
  readonly dataset: TensorDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly generator: Generator | null;

  constructor(dataset: TensorDataset, options: DataLoaderOptions = {}) {
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize <= 0)
      throw new Error(`batch_size should be a positive integer value, but got batch_size=${batchSize}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.generator = options.generator ?? (options.seed !== undefined ? new Generator(options.seed) : null);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of one epoch (a fresh permutation per call when shuffling). */
  private order(): number[] {
    const n = this.dataset.length;
    const order = Array.from({ length: n }, (_, i) => i);
    if (!this.shuffle) return order;
    const gen = this.generator ?? defaultGenerator();
    for (let i = n - 1; i > 0; i--) {
      const j = gen.integer(0, i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  private batch(indices: number[], contiguous: boolean): Tensor[] {
    return noGrad(() =>
      this.dataset.tensors.map((t) => {
        if (contiguous) return t.slice(0, indices[0], indices[0] + indices.length).contiguous();
        const index = tensor(new Int32Array(indices), {
          shape: [indices.length],
          dtype: 'int32',
          backend: t.backend,
        });
        const rest = t.shape.slice(1);
        const column = index.reshape([indices.length, ...rest.map(() => 1)]);
        const expanded = column.expand([indices.length, ...rest]);
        const out = t.gather(0, expanded);
        for (const temp of [index, column, expanded]) temp.dispose();
        return out;
      }),
    );
  }

  /** One epoch of batches (a fresh order per epoch when shuffling); each batch lives until the next. */
  *[Symbol.iterator](): Iterator<Tensor[]> {
    const order = this.order();
    let current: Tensor[] = [];
    try {
      for (let start = 0; start < order.length; start += this.batchSize) {
        const indices = order.slice(start, start + this.batchSize);
        if (this.dropLast && indices.length < this.batchSize) break;
        for (const t of current) t.dispose();
        current = this.batch(indices, !this.shuffle);
        yield current;
      }
    } finally {
      for (const t of current) t.dispose();
    }
  }
}
