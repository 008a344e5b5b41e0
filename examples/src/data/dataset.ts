/**
 * In-memory datasets on the host, and seeded mini-batching. Batches are copied into fresh
 * tensors on the active backend, so the same data reaches every backend bit for bit.
 */
import { Generator as Rng, type Tensor, tensor } from '@nabla/core';

/** Samples stored row-major on the host. */
export interface Dataset {
  /** Inputs, `n * prod(sampleShape)` values. */
  x: Float32Array;
  /** Shape of one input sample, e.g. `[2]` or `[3, 32]`. */
  sampleShape: number[];
  /** Class indices (classification) or `n * targetWidth` regression targets. */
  y: Int32Array | Float32Array;
  n: number;
}

/** A train/test pair. */
export interface Split {
  train: Dataset;
  test: Dataset;
}

function sampleSize(ds: Dataset): number {
  return ds.sampleShape.reduce((a, b) => a * b, 1);
}

/** A permutation of 0..n-1 (Fisher–Yates) from `gen`. */
export function permutation(n: number, gen: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = gen.integer(0, i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * The sample order of one epoch. It depends only on the seed and the epoch number, so a run
 * resumed from a checkpoint sees the same batches as one that was never interrupted.
 */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return permutation(n, new Rng((seed * 1000003 + epoch * 7919) >>> 0));
}

/** Batches of `indices`, each as `[x, y]` tensors; the last batch may be smaller. */
export function* batches(
  ds: Dataset,
  indices: Int32Array,
  batchSize: number,
  dropLast = false,
): Generator<[Tensor, Tensor]> {
  const per = sampleSize(ds);
  const yPer = ds.y.length / ds.n;
  for (let start = 0; start < indices.length; start += batchSize) {
    const idx = indices.subarray(start, Math.min(indices.length, start + batchSize));
    if (dropLast && idx.length < batchSize) break;
    yield take(ds, idx, per, yPer);
  }
}

function take(ds: Dataset, idx: Int32Array, per: number, yPer: number): [Tensor, Tensor] {
  const xb = new Float32Array(idx.length * per);
  const yb =
    ds.y instanceof Int32Array ? new Int32Array(idx.length * yPer) : new Float32Array(idx.length * yPer);
  idx.forEach((s, r) => {
    xb.set(ds.x.subarray(s * per, (s + 1) * per), r * per);
    yb.set(ds.y.subarray(s * yPer, (s + 1) * yPer), r * yPer);
  });
  const yShape = ds.y instanceof Int32Array ? [idx.length] : [idx.length, yPer];
  return [tensor(xb, { shape: [idx.length, ...ds.sampleShape] }), tensor(yb, { shape: yShape })];
}

/** Splits `ds` after shuffling with `seed`: the first `testCount` samples become the test set. */
export function splitDataset(ds: Dataset, testCount: number, seed: number): Split {
  const order = permutation(ds.n, new Rng(seed >>> 0));
  const pick = (idx: Int32Array): Dataset => {
    const per = sampleSize(ds);
    const yPer = ds.y.length / ds.n;
    const x = new Float32Array(idx.length * per);
    const y =
      ds.y instanceof Int32Array ? new Int32Array(idx.length * yPer) : new Float32Array(idx.length * yPer);
    idx.forEach((s, r) => {
      x.set(ds.x.subarray(s * per, (s + 1) * per), r * per);
      y.set(ds.y.subarray(s * yPer, (s + 1) * yPer), r * yPer);
    });
    return { x, y, sampleShape: ds.sampleShape, n: idx.length };
  };
  return { test: pick(order.subarray(0, testCount)), train: pick(order.subarray(testCount)) };
}
