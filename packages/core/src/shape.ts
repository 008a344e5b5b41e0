/** Shape arithmetic shared by every op: sizes, strides, broadcasting and axis normalisation. */

/** A tensor's dimensions, outermost first. `[]` is a scalar. */
export type Shape = readonly number[];

// The helpers here and the per-op code that calls them use indexed loops, not `for...of` or
// callbacks: until the engine optimizes them (the first few hundred training steps), each
// element of an iterator or callback loop costs an object and a call.

/** Number of elements in a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Row-major strides of a contiguous tensor. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** True when `strides` describe a row-major layout of `shape` (size-1 dims may have any stride). */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/**
 * Strides that show data laid out as `(shape, strides)` under `newShape` without moving it, or
 * null when none exist (PyTorch's rule for `view`; `reshape` then copies). Dims are taken in
 * chunks that are contiguous in memory (each dim's stride is the next one's stride times its
 * size, size-1 dims aside); each chunk of the old shape must be exactly a run of new dims.
 */
export function viewStrides(shape: Shape, strides: readonly number[], newShape: Shape): number[] | null {
  const size = sizeOf(shape);
  if (size === 0 || shape.length === 0) return contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let viewDim = newShape.length - 1;
  let chunkStride = strides[strides.length - 1];
  let chunkSize = 1;
  let viewSize = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    chunkSize *= shape[d];
    // a chunk ends at dim 0 or where the dim before it does not continue it in memory
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== chunkSize * chunkStride)) {
      while (viewDim >= 0 && (viewSize < chunkSize || newShape[viewDim] === 1)) {
        out[viewDim] = viewSize * chunkStride;
        viewSize *= newShape[viewDim];
        viewDim--;
      }
      if (viewSize !== chunkSize) return null;
      if (d > 0) {
        chunkStride = strides[d - 1];
        chunkSize = 1;
        viewSize = 1;
      }
    }
  }
  return viewDim === -1 ? out : null;
}

/** `[2, 3]` printed as PyTorch prints sizes. */
/** True when two shapes have the same dims. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Checks a user-given shape: non-negative integers. */
export function checkShape(shape: Shape, op: string): void {
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(
        `${op}: invalid shape ${formatShape(shape)}: every dimension must be a non-negative integer`,
      );
    }
  }
}

/** NumPy/PyTorch broadcasting of two shapes; throws naming both shapes and the op. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast ` +
          `(dimension ${i} is ${da} vs ${db}; sizes must match or one must be 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` broadcast to `outShape` (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, strides: readonly number[], outShape: Shape): number[] {
  const rank = outShape.length;
  const out = new Array<number>(rank).fill(0);
  const shift = rank - shape.length;
  for (let i = 0; i < shape.length; i++) {
    out[i + shift] = shape[i] === 1 && outShape[i + shift] !== 1 ? 0 : strides[i];
  }
  return out;
}

/** Resolves a possibly negative axis against a rank; throws PyTorch-style on out-of-range. */
export function normalizeAxis(axis: number, rank: number, op: string): number {
  const lo = -Math.max(rank, 1);
  const hi = Math.max(rank, 1) - 1;
  if (!Number.isInteger(axis) || axis < lo || axis > hi) {
    throw new Error(
      `${op}: dimension out of range (expected to be in range of [${lo}, ${hi}], but got ${axis})`,
    );
  }
  return axis < 0 ? axis + Math.max(rank, 1) : axis;
}

/** Normalises `undefined` (all axes), one axis or a list of axes into sorted unique axes. */
export function normalizeAxes(
  axes: number | readonly number[] | undefined,
  rank: number,
  op: string,
): number[] {
  if (axes === undefined) {
    const all = new Array<number>(rank);
    for (let i = 0; i < rank; i++) all[i] = i;
    return all;
  }
  const list = typeof axes === 'number' ? [axes] : axes;
  // sorted by insertion (a handful of axes), duplicates refused
  const sorted: number[] = [];
  for (let k = 0; k < list.length; k++) {
    const a = normalizeAxis(list[k], rank, op);
    let at = sorted.length;
    while (at > 0 && sorted[at - 1] > a) at--;
    if (sorted[at - 1] === a) throw new Error(`${op}: dimension ${list.join(', ')} appears multiple times`);
    sorted.splice(at, 0, a);
  }
  // A 0-d tensor accepts dim 0 / -1 (as PyTorch does) and has no axis to reduce.
  if (rank === 0) return [];
  return sorted;
}
