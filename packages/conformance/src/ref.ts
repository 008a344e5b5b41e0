/**
 * Float64 reference arrays for the conformance suite and the gradient checks: every op the
 * suite checks has a plain loop here, written independently of core and the backends.
 */

/** A row-major float64 array with a shape. */
export interface Ref {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** A reference array from a shape and values (copied to float64). */
export function ref(shape: readonly number[], values: ArrayLike<number>): Ref {
  if (values.length !== sizeOf(shape))
    throw new Error(`ref: shape [${shape}] needs ${sizeOf(shape)} values, got ${values.length}`);
  return { shape: [...shape], data: Float64Array.from(values) };
}

/** Multi-index of flat position `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** An array of `shape` whose element at each multi-index is `f(index)`. */
export function build(shape: readonly number[], f: (idx: number[]) => number): Ref {
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = f(unravel(i, shape));
  return { shape: [...shape], data };
}

/** Element of `a` at a multi-index. */
export function at(a: Ref, idx: readonly number[]): number {
  let off = 0;
  const st = stridesOf(a.shape);
  for (let d = 0; d < idx.length; d++) off += idx[d] * st[d];
  return a.data[off];
}

/** NumPy broadcasting of shapes, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element of `a` read as if broadcast to `outShape`. */
export function atBroadcast(a: Ref, idx: readonly number[]): number {
  const lead = idx.length - a.shape.length;
  return at(
    a,
    a.shape.map((d, k) => (d === 1 ? 0 : idx[k + lead])),
  );
}

/** Elementwise map. */
export function map(a: Ref, f: (x: number) => number): Ref {
  return { shape: [...a.shape], data: a.data.map(f) };
}

/** Elementwise binary op with broadcasting. */
export function zip(a: Ref, b: Ref, f: (x: number, y: number) => number): Ref {
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) throw new Error(`zip: [${a.shape}] and [${b.shape}] do not broadcast`);
  return build(shape, (idx) => f(atBroadcast(a, idx), atBroadcast(b, idx)));
}

/** `cond ? a : b` with broadcasting of all three. */
export function select(c: Ref, a: Ref, b: Ref): Ref {
  const shape = broadcastShape(broadcastShape(c.shape, a.shape) ?? [], b.shape);
  if (!shape) throw new Error('select: shapes do not broadcast');
  return build(shape, (idx) => (atBroadcast(c, idx) !== 0 ? atBroadcast(a, idx) : atBroadcast(b, idx)));
}

function normAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  return list.map((a) => (a < 0 ? a + rank : a)).sort((x, y) => x - y);
}

/** Shape after reducing `axes`. */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepDim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDim) out.push(1);
  });
  return out;
}

/** Generic reduction: `f` sees the values along the reduced axes, in row-major order. */
export function reduce(
  a: Ref,
  axes: number | readonly number[] | undefined,
  keepDim: boolean,
  f: (xs: number[]) => number,
): Ref {
  const ax = normAxes(axes, a.shape.length);
  const outShape = reducedShape(a.shape, ax, keepDim);
  const keptShape = reducedShape(a.shape, ax, true);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape);
    let o = 0;
    const st = stridesOf(keptShape);
    idx.forEach((v, d) => {
      if (!ax.includes(d)) o += v * st[d];
    });
    const g = groups.get(o);
    if (g) g.push(a.data[i]);
    else groups.set(o, [a.data[i]]);
  }
  const n = sizeOf(outShape);
  const data = new Float64Array(n);
  for (let o = 0; o < n; o++) data[o] = f(groups.get(o) ?? []);
  return { shape: outShape, data };
}

/** Reductions by name, as plain functions of the values. */
export const reducers = {
  sum: (xs: number[]) => xs.reduce((s, x) => s + x, 0),
  mean: (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length,
  max: (xs: number[]) => Math.max(...xs),
  min: (xs: number[]) => Math.min(...xs),
  argmax: (xs: number[]) => xs.indexOf(Math.max(...xs)),
  argmin: (xs: number[]) => xs.indexOf(Math.min(...xs)),
  variance: (correction: number) => (xs: number[]) => {
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    return xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(0, xs.length - correction);
  },
};

/** Dimension permutation. */
export function permute(a: Ref, dims: readonly number[]): Ref {
  const shape = dims.map((d) => a.shape[d]);
  return build(shape, (idx) => {
    const src = new Array<number>(dims.length);
    dims.forEach((d, i) => {
      src[d] = idx[i];
    });
    return at(a, src);
  });
}

/** Same values, new shape. */
export function reshape(a: Ref, shape: readonly number[]): Ref {
  return ref(shape, a.data);
}

/** Swap of two dims. */
export function transpose(a: Ref, d0: number, d1: number): Ref {
  const r = a.shape.length;
  const dims = a.shape.map((_, i) => i);
  const x = (d0 + r) % r;
  const y = (d1 + r) % r;
  [dims[x], dims[y]] = [dims[y], dims[x]];
  return permute(a, dims);
}

/** Broadcast to `shape`. */
export function expand(a: Ref, shape: readonly number[]): Ref {
  return build(shape, (idx) => atBroadcast(a, idx));
}

/** `start..end-1` along `dim`. */
export function slice(a: Ref, dim: number, start: number, end: number): Ref {
  const shape = [...a.shape];
  shape[dim] = end - start;
  return build(shape, (idx) => {
    const src = [...idx];
    src[dim] += start;
    return at(a, src);
  });
}

/** Concatenation along `dim`. */
export function concat(parts: readonly Ref[], dim: number): Ref {
  const shape = [...parts[0].shape];
  shape[dim] = parts.reduce((n, p) => n + p.shape[dim], 0);
  return build(shape, (idx) => {
    let j = idx[dim];
    for (const p of parts) {
      if (j < p.shape[dim]) {
        const src = [...idx];
        src[dim] = j;
        return at(p, src);
      }
      j -= p.shape[dim];
    }
    throw new Error('unreachable');
  });
}

/** `torch.gather` along `dim`. */
export function gather(a: Ref, dim: number, index: Ref): Ref {
  return build(index.shape, (idx) => {
    const src = [...idx];
    src[dim] = at(index, idx);
    return at(a, src);
  });
}

/** Matrix product with PyTorch's rules (1D operands, broadcast batch dims). */
export function matmul(a: Ref, b: Ref): Ref {
  const a2 = a.shape.length === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.shape.length === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const m = a2.shape[a2.shape.length - 2];
  const k = a2.shape[a2.shape.length - 1];
  const n = b2.shape[b2.shape.length - 1];
  const batch = broadcastShape(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  if (!batch || b2.shape[b2.shape.length - 2] !== k) throw new Error('matmul: shapes do not match');
  const out = build([...batch, m, n], (idx) => {
    const bi = idx.slice(0, -2);
    const [i, j] = idx.slice(-2);
    let s = 0;
    for (let p = 0; p < k; p++) s += atBroadcast(a2, [...bi, i, p]) * atBroadcast(b2, [...bi, p, j]);
    return s;
  });
  let shape = out.shape;
  if (b.shape.length === 1) shape = shape.slice(0, -1);
  if (a.shape.length === 1)
    shape = b.shape.length === 1 ? [] : [...shape.slice(0, -2), shape[shape.length - 1]];
  return reshape(out, shape);
}

/** Softmax along `dim` (max-shifted). */
export function softmax(a: Ref, dim: number): Ref {
  const lse = logSumExp(a, dim);
  return build(a.shape, (idx) => Math.exp(at(a, idx) - atBroadcast(lse, idx)));
}

/** log-sum-exp along `dim`, keeping the dim. */
export function logSumExp(a: Ref, dim: number): Ref {
  return reduce(a, dim, true, (xs) => {
    const m = Math.max(...xs);
    return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
  });
}

/** Log-softmax along `dim`. */
export function logSoftmax(a: Ref, dim: number): Ref {
  const lse = logSumExp(a, dim);
  return build(a.shape, (idx) => at(a, idx) - atBroadcast(lse, idx));
}

/** `x · wᵀ + b` with optional ReLU; x is `[..., in]`. */
export function linear(x: Ref, w: Ref, b: Ref | null, relu: boolean): Ref {
  let y = matmul(x, transpose(w, 0, 1));
  if (b) y = zip(y, b, (p, q) => p + q);
  return relu ? map(y, (v) => Math.max(v, 0)) : y;
}

/** Batch norm with batch statistics (biased variance) for `(N, C)` or `(N, C, L)`. */
export function batchNorm(
  x: Ref,
  w: Ref | null,
  b: Ref | null,
  eps: number,
): { output: Ref; mean: Ref; variance: Ref; invStd: Ref } {
  const x3 = x.shape.length === 2 ? reshape(x, [...x.shape, 1]) : x;
  const mean = reduce(x3, [0, 2], true, reducers.mean);
  const variance = reduce(x3, [0, 2], true, reducers.variance(0));
  const invStd = map(variance, (v) => 1 / Math.sqrt(v + eps));
  const c = x3.shape[1];
  const out = build(x3.shape, (idx) => {
    const ch = [0, idx[1], 0];
    const xhat = (at(x3, idx) - at(mean, ch)) * at(invStd, ch);
    return xhat * (w ? w.data[idx[1]] : 1) + (b ? b.data[idx[1]] : 0);
  });
  return {
    output: reshape(out, x.shape),
    mean: reshape(mean, [c]),
    variance: reshape(variance, [c]),
    invStd: reshape(invStd, [c]),
  };
}

/** Per-row softmax cross-entropy; rows with target `ignoreIndex` give 0. */
export function softmaxCrossEntropy(logits: Ref, targets: readonly number[], ignoreIndex = -100): Ref {
  const lse = logSumExp(logits, 1);
  const [rows] = logits.shape;
  return build([rows], ([r]) => (targets[r] === ignoreIndex ? 0 : lse.data[r] - at(logits, [r, targets[r]])));
}

/** The tests' seeded generator (mulberry32, the test kit's). */
export { rng } from '@nabla/test-kit';

/** Float32-representable values uniform in `[lo, hi)`, so float32 inputs equal the reference's. */
export function randomRef(r: () => number, shape: readonly number[], lo = -2, hi = 2): Ref {
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.fround(lo + (hi - lo) * r());
  return { shape: [...shape], data };
}

/** Random integers in `[lo, hi]`. */
export function randomIntRef(r: () => number, shape: readonly number[], lo: number, hi: number): Ref {
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + Math.floor(r() * (hi - lo + 1));
  return { shape: [...shape], data };
}
