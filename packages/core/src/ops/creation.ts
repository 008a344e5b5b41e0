/** Creation functions: tensors from host data, constants, ranges and random draws. */
import { type DType, hostArray, type TypedArray } from '../backend.js';
import { activeCapture } from '../compile/hooks.js';
import { checkAllocation } from '../limits.js';
import { defaultGenerator, type Generator } from '../random.js';
import { getBackend, getInitializedBackend } from '../registry.js';
import { checkShape, formatShape, type Shape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Options shared by creation functions. */
export interface CreateOptions {
  /** Element type; float32 unless the data is an Int32Array. */
  dtype?: DType;
  /** Make the result a leaf that accumulates `.grad`. */
  requiresGrad?: boolean;
  /** Backend name; the active backend by default. */
  backend?: string;
}

/** Nested arrays of numbers (or booleans), as written in code. */
export type NestedArray = number | boolean | readonly NestedArray[];

function backendOf(options: CreateOptions) {
  return options.backend ? getInitializedBackend(options.backend) : getBackend();
}

/** @internal uploads host values as a new leaf tensor. */
export function fromHost(values: TypedArray, shape: Shape, options: CreateOptions = {}): Tensor {
  const dtype = options.dtype ?? (values instanceof Int32Array ? 'int32' : 'float32');
  if (options.requiresGrad && dtype !== 'float32') {
    throw new Error(`tensor: only float32 tensors can require gradients (got dtype ${dtype})`);
  }
  const backend = backendOf(options);
  checkAllocation('tensor', shape, dtype, backend);
  const t = Tensor.empty(shape, dtype, backend);
  const data =
    values.constructor === (dtype === 'float32' ? Float32Array : Int32Array)
      ? values
      : convert(values, dtype);
  const storage = t.storageFor('tensor');
  backend.write(storage.buffer, data);
  if (data instanceof Int32Array && data.length > 0) storage.knownRange = int32Range(data);
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}

/** Smallest and largest element of a non-empty int32 array. */
function int32Range(values: Int32Array): { min: number; max: number } {
  let min = values[0];
  let max = values[0];
  for (let i = 1; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  return { min, max };
}

function convert(values: ArrayLike<number>, dtype: DType): TypedArray {
  const out = hostArray(dtype, values.length);
  if (dtype === 'int32') {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isInteger(v))
        throw new Error(`tensor: value ${v} at index ${i} is not an integer, but dtype is int32`);
      out[i] = v;
    }
  } else out.set(values);
  return out;
}

/**
 * A tensor from nested arrays, a typed array or a plain number array.
 * `shape` is required to reshape flat data and optional otherwise.
 * @example tensor([[1, 2], [3, 4]], { requiresGrad: true })
 */
export function tensor(
  data: NestedArray | TypedArray | readonly number[],
  options: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  let flat: ArrayLike<number>;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data as TypedArray;
    shape = [(data as TypedArray).length];
  } else {
    shape = inferShape(data);
    flat = flatten(data, shape);
  }
  if (options.shape) {
    checkShape(options.shape, 'tensor');
    if (sizeOf(options.shape) !== flat.length) {
      throw new Error(
        `tensor: shape ${formatShape(options.shape)} needs ${sizeOf(options.shape)} values, got ${flat.length}`,
      );
    }
    shape = [...options.shape];
  }
  const dtype = options.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  const values =
    ArrayBuffer.isView(flat) &&
    (flat as TypedArray).constructor === (dtype === 'float32' ? Float32Array : Int32Array)
      ? (flat as TypedArray)
      : convert(flat, dtype);
  return fromHost(values, shape, { ...options, dtype });
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[]): number[] {
  const out: number[] = [];
  const walk = (v: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (Array.isArray(v))
        throw new Error(`tensor: ragged nested array: expected a number at ${path}, got an array`);
      if (typeof v === 'boolean') out.push(v ? 1 : 0);
      else if (typeof v === 'number') out.push(v);
      else throw new Error(`tensor: expected a number at ${path}, got ${typeof v}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new Error(
        `tensor: ragged nested array: expected length ${shape[dim]} at ${path || 'the top level'}, got ${Array.isArray(v) ? v.length : typeof v}`,
      );
    }
    for (let i = 0; i < v.length; i++) walk(v[i], dim + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
  return out;
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  return filled('full', shape, value, options);
}

function filled(op: string, shape: readonly number[], value: number, options: CreateOptions): Tensor {
  checkShape(shape, op);
  const dtype = options.dtype ?? 'float32';
  if (dtype === 'int32' && !Number.isInteger(value))
    throw new Error(`${op}: value ${value} is not an integer, but dtype is int32`);
  const backend = backendOf(options);
  checkAllocation(op, shape, dtype, backend);
  const t = Tensor.empty([...shape], dtype, backend);
  backend.kernels.fill({ out: t.storageFor('full').buffer, value });
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return filled('zeros', shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return filled('ones', shape, 1, options);
}

/** Zeros with the shape, dtype and backend of `t`. */
export function zerosLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, backend: t.backend, ...options });
}

/** Ones with the shape, dtype and backend of `t`. */
export function onesLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, backend: t.backend, ...options });
}

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`, like `torch.arange`.
 * `arange(n)` counts from 0. Integer arguments give int32 unless `dtype` says otherwise.
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step))
    throw new Error(`arange: step must be non-zero and finite, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const ints = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = options.dtype ?? (ints ? 'int32' : 'float32');
  checkAllocation('arange', [n], dtype, backendOf(options));
  const values = hostArray(dtype, n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  return fromHost(values, [n], { ...options, dtype });
}

/** An identity matrix `[n, m]` (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  checkShape([n, m], 'eye');
  const dtype = options.dtype ?? 'float32';
  checkAllocation('eye', [n, m], dtype, backendOf(options));
  const values = hostArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return fromHost(values, [n, m], { ...options, dtype });
}

function draw(
  shape: readonly number[],
  op: string,
  sample: (g: Generator) => number,
  options: CreateOptions,
): Tensor {
  checkShape(shape, op);
  const dtype = options.dtype ?? 'float32';
  checkAllocation(op, shape, dtype, backendOf(options)); // before drawing a single number
  const sampleAll = (): TypedArray => {
    const g = defaultGenerator(); // looked up per draw: manualSeed may replace it between replays
    const values = hostArray(dtype, sizeOf(shape));
    for (let i = 0; i < values.length; i++) values[i] = sample(g);
    return values;
  };
  const values = sampleAll();
  // A compiled step draws again on every replay, advancing the generator as eager code does.
  activeCapture()?.dynamicData(sampleAll);
  return fromHost(values, [...shape], { ...options, dtype });
}

/** Uniform samples in [0, 1) from the seedable generator (`manualSeed`). */
export function rand(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return draw(shape, 'rand', (g) => g.uniform(), options);
}

/** Uniform samples in [low, high). */
export function uniform(
  shape: readonly number[],
  low: number,
  high: number,
  options: CreateOptions = {},
): Tensor {
  return draw(shape, 'uniform', (g) => low + (high - low) * g.uniform(), options);
}

/** Standard normal samples, times `std` plus `mean` when given. */
export function randn(
  shape: readonly number[],
  options: CreateOptions & { mean?: number; std?: number } = {},
): Tensor {
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  return draw(shape, 'randn', (g) => mean + std * g.normal(), options);
}

/** Uniform integers in [low, high), int32. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  options: CreateOptions = {},
): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: expected integers low < high, got low=${low}, high=${high}`);
  }
  return draw(shape, 'randint', (g) => g.integer(low, high), { dtype: 'int32', ...options });
}
