/**
 * The Tensor: a shape, strides and an offset over reference-counted device storage, plus
 * autograd state. Methods are thin wrappers over the op functions in `ops/`, so every op
 * exists both as `add(a, b)` and `a.add(b)`.
 */
import { type GradNode, isGradEnabled } from './autograd.js';
import type { Backend, DType, StridedView, TypedArray } from './backend.js';
import { runBackward } from './backward.js';
import { activeCapture, checkHostRead, hostEffect } from './compile/hooks.js';
import { formatTensor } from './format.js';
import * as ops from './ops/index.js';
import { getBackend, getInitializedBackend } from './registry.js';
import { collectedTensors, trackTensor, untrackTensor } from './scope.js';
import { contiguousStrides, formatShape, isContiguous, type Shape, sizeOf } from './shape.js';
import { Storage } from './storage.js';
import { turnEventLoopNowAndThen } from './yield.js';

/** A number or a tensor: what binary ops accept as their other operand. */
export type TensorOrScalar = Tensor | number;

let nextId = 0;

/**
 * An n-dimensional array of float32 or int32 values on one backend, with an optional gradient.
 * Create tensors with {@link tensor}, {@link zeros}, {@link randn} and the other factories; every op
 * is also a method (`a.add(b)`), and {@link Tensor.backward} runs reverse-mode autograd.
 */
export class Tensor {
  /**
   * Accumulated gradient of a leaf after `backward()`; null until then. Owned by this tensor.
   * Reading it on a non-leaf that requires grad warns once, as PyTorch does: it stays null.
   */
  get grad(): Tensor | null {
    if (this._grad === null && this._gradFn !== null) warnNonLeafGrad();
    return this._grad;
  }

  set grad(value: Tensor | null) {
    this._grad = value;
  }

  /** Unique id, for debugging and maps. */
  readonly id = nextId++;
  /** @internal marks tensors for `tidy`'s result walk without an import cycle. */
  readonly __nablaTensor = true;
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** @internal element strides into the storage (changed only by {@link _rehome}). */
  readonly strides: readonly number[];
  /** @internal element offset into the storage (changed only by {@link _rehome}). */
  readonly offset: number;
  /** Element type. */
  readonly dtype: DType;
  /** Whether gradients flow to this tensor. Set it on leaves you want `.grad` for. */
  requiresGrad: boolean;
  private _grad: Tensor | null = null;
  private _storage: Storage | null;
  private _gradFn: GradNode | null = null;
  /** Whether the garbage-collection safety net holds this tensor (see {@link _net}). */
  private _netted = false;
  /** {@link isDense} once asked (undefined before). */
  private _dense: boolean | undefined = undefined;

  /** @internal use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(
    storage: Storage,
    shape: Shape,
    strides: readonly number[],
    offset: number,
    requiresGrad = false,
    /** @internal false for a tensor an owner disposes (a node's saved tensor): no scope, no net yet. */
    scoped = true,
  ) {
    this._storage = storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.dtype = storage.dtype;
    this.requiresGrad = requiresGrad;
    storage.retain();
    trackTensor(this, scoped);
  }

  /**
   * @internal Arms the safety net: the storage is released if this tensor becomes unreachable
   * without `dispose()`. Scopes call it for a tensor that no open scope holds any more (a scope's
   * set keeps its tensors reachable, so registering them earlier would only cost time).
   */
  _net(): void {
    if (this._netted || this._storage === null) return;
    this._netted = true;
    collectedTensors.register(this, this._storage, this);
    // the graph behind this tensor can now be dropped without dispose: net what it saved
    this._gradFn?.netSaved();
  }

  /** @internal a new contiguous tensor over a fresh buffer on `backend`. */
  static empty(shape: Shape, dtype: DType, backend: Backend = getBackend()): Tensor {
    return new Tensor(Storage.alloc(backend, sizeOf(shape), dtype), shape, contiguousStrides(shape), 0);
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Name of the backend holding this tensor's data. */
  get backend(): string {
    return this.storageFor('backend').backend.name;
  }

  /** True once `dispose()` ran (directly, via `tidy`, or via the safety net). */
  get isDisposed(): boolean {
    return this._storage === null;
  }

  /** The autograd node that produced this tensor; null for leaves and constants. */
  get gradFn(): GradNode | null {
    return this._gradFn;
  }

  /** True for tensors created by the user (not by a differentiable op). */
  get isLeaf(): boolean {
    return this._gradFn === null;
  }

  /** @internal */
  storageFor(op: string): Storage {
    if (this._storage === null)
      throw new Error(`${op}: tensor was disposed (shape ${formatShape(this.shape)}, ${this.dtype})`);
    return this._storage;
  }

  /** @internal the device backend, checking the tensor is alive. */
  backendFor(op: string): Backend {
    return this.storageFor(op).backend;
  }

  /** @internal true when the tensor is row-major over its whole storage from offset 0. */
  get isDense(): boolean {
    if (this._storage === null) return false;
    // the layout and the storage change only in _rehome, so the answer is computed once
    this._dense ??=
      this.offset === 0 && this._storage.size === this.size && isContiguous(this.shape, this.strides);
    return this._dense;
  }

  /**
   * How many in-place writes its memory has had (shared with its views), like PyTorch's
   * `_version`; autograd uses it to refuse gradients computed from overwritten values.
   */
  get version(): number {
    return this.storageFor('version').version;
  }

  /** @internal records an in-place write into this tensor's memory (bumps {@link Tensor.version}). */
  markModified(): void {
    this.storageFor('markModified').markModified();
  }

  /** @internal a strided read of this tensor broadcast to `shape` (defaults to its own). */
  viewFor(op: string, strides: readonly number[] = this.strides): StridedView {
    return { buffer: this.storageFor(op).buffer, offset: this.offset, strides };
  }

  /** @internal attaches the node that produced this tensor. */
  setGradFn(node: GradNode): void {
    node.retain();
    this._gradFn = node;
    this.requiresGrad = true;
    if (this._netted) node.netSaved();
  }

  /**
   * @internal a second handle on the same storage and layout for an autograd node to save: no
   * scope holds it, and the node disposes it. It gets the safety net only when a tensor holding
   * its node does (see {@link GradNode.netSaved}): until then scopes dispose that tensor, which
   * releases the node.
   */
  alias(): Tensor {
    return new Tensor(this.storageFor('alias'), this.shape, this.strides, this.offset, false, false);
  }

  /** Frees this tensor's reference to device memory now. Safe to call twice. */
  dispose(): void {
    const storage = this._storage;
    if (storage === null) return;
    this._storage = null;
    if (this._netted) {
      this._netted = false;
      collectedTensors.unregister(this);
    }
    untrackTensor(this);
    storage.release();
    if (this._gradFn) {
      const node = this._gradFn;
      this._gradFn = null;
      node.release();
    }
    if (this._grad) {
      this._grad.dispose();
      this._grad = null;
    }
  }

  // ---- autograd ----------------------------------------------------------------------

  /**
   * Computes gradients of this tensor with respect to every leaf that requires grad and
   * accumulates them into their `.grad`. `grad` defaults to 1 for a one-element tensor.
   * The graph's saved tensors are freed afterwards unless `retainGraph` is set.
   */
  backward(grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
    runBackward(this, grad, options.retainGraph ?? false);
  }

  /** Sets `.grad` to null, disposing the old gradient. */
  zeroGrad(): void {
    activeCapture()?.zeroedLeaves.add(this);
    hostEffect(() => {
      this._grad?.dispose();
      this._grad = null;
    });
  }

  /** A tensor sharing this one's data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storageFor('detach'), this.shape, this.strides, this.offset);
  }

  /** Sets `requiresGrad` and returns this tensor (chainable, like PyTorch's `requires_grad_`). */
  requiresGrad_(value = true): this {
    if (!this.isLeaf && !value)
      throw new Error('requiresGrad_: can only change requiresGrad of leaf tensors; use detach()');
    this.requiresGrad = value;
    return this;
  }

  // ---- readback ------------------------------------------------------------------------

  /** A copy of the values, row-major, as a typed array. Waits for pending device work. */
  async data(): Promise<TypedArray> {
    checkHostRead('data');
    const backend = this.backendFor('data');
    const turn = turnEventLoopNowAndThen(); // lets the safety net free forgotten tensors (see yield.ts)
    if (turn) await turn;
    if (this.isDense) return backend.read(this.storageFor('data').buffer);
    const c = ops.contiguousCopy(this);
    try {
      return await backend.read(c.storageFor('data').buffer);
    } finally {
      c.dispose();
    }
  }

  /** Synchronous {@link data}, for backends that can (cpu, wasm). */
  dataSync(): TypedArray {
    checkHostRead('dataSync');
    const backend = this.backendFor('dataSync');
    if (!backend.readSync) {
      throw new Error(
        `dataSync: the '${backend.name}' backend cannot read synchronously; use \`await t.data()\` instead`,
      );
    }
    if (this.isDense) return backend.readSync(this.storageFor('dataSync').buffer);
    const c = ops.contiguousCopy(this);
    try {
      return backend.readSync(c.storageFor('dataSync').buffer);
    } finally {
      c.dispose();
    }
  }

  /** The values as nested arrays. */
  async array(): Promise<unknown> {
    return toNested(await this.data(), this.shape);
  }

  /** Synchronous {@link array}. */
  arraySync(): unknown {
    return toNested(this.dataSync(), this.shape);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    checkHostRead('item');
    if (this.size !== 1)
      throw new Error(`item: a Tensor with ${this.size} elements cannot be converted to a scalar`);
    return (await this.data())[0];
  }

  /** Synchronous {@link item}. */
  itemSync(): number {
    checkHostRead('itemSync');
    if (this.size !== 1)
      throw new Error(`item: a Tensor with ${this.size} elements cannot be converted to a scalar`);
    return this.dataSync()[0];
  }

  /** Shape, dtype and abbreviated values (values only where the backend reads synchronously). */
  toString(): string {
    return formatTensor(this);
  }

  /**
   * What `JSON.stringify` writes for a tensor: dtype, shape, backend and the values as nested
   * arrays, so `JSON.stringify(model.stateDict())` shows data rather than internals. Where the
   * values cannot be read synchronously (WebGPU, a disposed tensor), `values` is left out and
   * `note` says why.
   */
  toJSON(): TensorJSON {
    if (this.isDisposed) return { dtype: this.dtype, shape: [...this.shape], backend: '', note: 'disposed' };
    const head = { dtype: this.dtype, shape: [...this.shape], backend: this.backend };
    try {
      return { ...head, values: this.arraySync() };
    } catch (err) {
      return { ...head, note: (err as Error).message.split('\n')[0] };
    }
  }

  /** A copy on another (already started) backend. */
  to(name: string): Tensor {
    const target = getInitializedBackend(name);
    const source = this.backendFor('to');
    if (target === source) return this;
    if (!source.readSync) {
      throw new Error(
        `to: the '${source.name}' backend cannot read synchronously; use \`await t.toAsync('${name}')\` instead`,
      );
    }
    const values = this.dataSync(); // before allocating, so a failure leaks nothing
    const out = Tensor.empty(this.shape, this.dtype, target);
    target.write(out.storageFor('to').buffer, values);
    return out;
  }

  /**
   * @internal Gives this tensor new memory on `target` holding `values` (its logical values,
   * row-major): the same object, now on another backend, as PyTorch's `param.data = ...`.
   * Used by `moveTensors` (`Module.to`, `Optimizer.to`), which reads every value first.
   */
  _rehome(target: Backend, values: TypedArray): void {
    const old = this.storageFor('to');
    const storage = Storage.alloc(target, this.size, this.dtype);
    target.write(storage.buffer, values);
    storage.retain();
    this._storage = storage;
    (this as { strides: readonly number[] }).strides = contiguousStrides(this.shape);
    (this as { offset: number }).offset = 0;
    this._dense = true;
    if (this._netted) {
      collectedTensors.unregister(this);
      collectedTensors.register(this, storage, this);
    }
    old.release();
  }

  /** Asynchronous {@link to}: works from any backend, WebGPU included. */
  async toAsync(name: string): Promise<Tensor> {
    const target = getInitializedBackend(name);
    if (target === this.backendFor('toAsync')) return this;
    const values = await this.data();
    const out = Tensor.empty(this.shape, this.dtype, target);
    target.write(out.storageFor('toAsync').buffer, values);
    return out;
  }

  /** Copies `source`'s values into this tensor's memory in place (no autograd). */
  assign(source: Tensor): this {
    ops.assign(this, source);
    return this;
  }

  // ---- ops as methods ----------------------------------------------------------------
  /** Elementwise `this + o`, with NumPy broadcasting. */
  add(o: TensorOrScalar): Tensor {
    return ops.add(this, o);
  }
  /** Elementwise `this - o`, with NumPy broadcasting. */
  sub(o: TensorOrScalar): Tensor {
    return ops.sub(this, o);
  }
  /** Elementwise `this * o`, with NumPy broadcasting. */
  mul(o: TensorOrScalar): Tensor {
    return ops.mul(this, o);
  }
  /** Elementwise `this / o`, with NumPy broadcasting. */
  div(o: TensorOrScalar): Tensor {
    return ops.div(this, o);
  }
  /** Elementwise `this ** o`, with NumPy broadcasting. */
  pow(o: TensorOrScalar): Tensor {
    return ops.pow(this, o);
  }
  /** Elementwise larger of `this` and `o`, with broadcasting. */
  maximum(o: TensorOrScalar): Tensor {
    return ops.maximum(this, o);
  }
  /** Elementwise smaller of `this` and `o`, with broadcasting. */
  minimum(o: TensorOrScalar): Tensor {
    return ops.minimum(this, o);
  }
  /** Elementwise `this == o` as int32 0/1. */
  eq(o: TensorOrScalar): Tensor {
    return ops.eq(this, o);
  }
  /** Elementwise `this != o` as int32 0/1. */
  ne(o: TensorOrScalar): Tensor {
    return ops.ne(this, o);
  }
  /** Elementwise `this < o` as int32 0/1. */
  lt(o: TensorOrScalar): Tensor {
    return ops.lt(this, o);
  }
  /** Elementwise `this <= o` as int32 0/1. */
  le(o: TensorOrScalar): Tensor {
    return ops.le(this, o);
  }
  /** Elementwise `this > o` as int32 0/1. */
  gt(o: TensorOrScalar): Tensor {
    return ops.gt(this, o);
  }
  /** Elementwise `this >= o` as int32 0/1. */
  ge(o: TensorOrScalar): Tensor {
    return ops.ge(this, o);
  }
  /** Elementwise `-this`. */
  neg(): Tensor {
    return ops.neg(this);
  }
  /** Elementwise absolute value. */
  abs(): Tensor {
    return ops.abs(this);
  }
  /** Elementwise sign: -1, 0 or 1. */
  sign(): Tensor {
    return ops.sign(this);
  }
  /** Elementwise `e ** this`. */
  exp(): Tensor {
    return ops.exp(this);
  }
  /** Elementwise natural logarithm. */
  log(): Tensor {
    return ops.log(this);
  }
  /** Elementwise `log(1 + this)`, accurate for small values. */
  log1p(): Tensor {
    return ops.log1p(this);
  }
  /** Elementwise square root. */
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  /** Elementwise `1 / sqrt(this)`. */
  rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  /** Elementwise `max(this, 0)`. */
  relu(): Tensor {
    return ops.relu(this);
  }
  /** Elementwise logistic function `1 / (1 + e ** -this)`. */
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  /** Elementwise hyperbolic tangent. */
  tanh(): Tensor {
    return ops.tanh(this);
  }
  /** Elementwise `this * this`. */
  square(): Tensor {
    return ops.square(this);
  }
  /** Elementwise `1 / this`. */
  reciprocal(): Tensor {
    return ops.reciprocal(this);
  }
  /** Elementwise clamp into `[min, max]`; a `null` or missing bound is open. */
  clamp(min?: number | null, max?: number | null): Tensor {
    return ops.clamp(this, min, max);
  }
  /** A float32 copy (this tensor itself when it already is float32). */
  float(): Tensor {
    return ops.cast(this, 'float32');
  }
  /** An int32 copy (this tensor itself when it already is int32). */
  int(): Tensor {
    return ops.cast(this, 'int32');
  }
  /** Sum over `axis` (all axes when omitted); `keepDim` keeps reduced axes as size 1. */
  sum(axis?: number | readonly number[], keepDim = false): Tensor {
    return ops.sum(this, axis, keepDim);
  }
  /** Mean over `axis` (all axes when omitted); `keepDim` keeps reduced axes as size 1. */
  mean(axis?: number | readonly number[], keepDim = false): Tensor {
    return ops.mean(this, axis, keepDim);
  }
  /** Maximum over `axis` (all axes when omitted); `keepDim` keeps reduced axes as size 1. */
  max(axis?: number | readonly number[], keepDim = false): Tensor {
    return ops.max(this, axis, keepDim);
  }
  /** Minimum over `axis` (all axes when omitted); `keepDim` keeps reduced axes as size 1. */
  min(axis?: number | readonly number[], keepDim = false): Tensor {
    return ops.min(this, axis, keepDim);
  }
  /** Index (int32) of the largest value along `axis` (of the flattened tensor when omitted). */
  argmax(axis?: number, keepDim = false): Tensor {
    return ops.argmax(this, axis, keepDim);
  }
  /** Index (int32) of the smallest value along `axis` (of the flattened tensor when omitted). */
  argmin(axis?: number, keepDim = false): Tensor {
    return ops.argmin(this, axis, keepDim);
  }
  /** Variance over `axis`; `options.correction` 1 (default, unbiased) or 0. */
  var(axis?: number | readonly number[], options?: ops.VarianceOptions): Tensor {
    return ops.variance(this, axis, options);
  }
  /** Standard deviation over `axis`; `options.correction` as in {@link Tensor.var}. */
  std(axis?: number | readonly number[], options?: ops.VarianceOptions): Tensor {
    return ops.std(this, axis, options);
  }
  /** Matrix product with NumPy `matmul` rules (1D operands, batched leading dimensions). */
  matmul(o: Tensor): Tensor {
    return ops.matmul(this, o);
  }
  /** The same values in a new shape (one `-1` is inferred); a view when the layout allows. */
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  /** A view in a new shape; throws when the layout needs a copy (use {@link Tensor.reshape}). */
  view(shape: readonly number[]): Tensor {
    return ops.view(this, shape);
  }
  /** Merges dimensions `startDim..endDim` (inclusive) into one. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return ops.flatten(this, startDim, endDim);
  }
  /** A view with dimensions `dim0` and `dim1` swapped. */
  transpose(dim0: number, dim1: number): Tensor {
    return ops.transpose(this, dim0, dim1);
  }
  /** Transpose of a 2D (or 1D/0D, unchanged) tensor. */
  t(): Tensor {
    return this.rank < 2 ? this : ops.transpose(this, 0, 1);
  }
  /** A view with dimensions reordered: output dimension `i` is input dimension `dims[i]`. */
  permute(dims: readonly number[]): Tensor {
    return ops.permute(this, dims);
  }
  /** A broadcast view to `shape` (size-1 dimensions repeat without copying). */
  expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  /** Removes size-1 dimension `dim`, or every size-1 dimension when omitted. */
  squeeze(dim?: number): Tensor {
    return ops.squeeze(this, dim);
  }
  /** Inserts a size-1 dimension at `dim`. */
  unsqueeze(dim: number): Tensor {
    return ops.unsqueeze(this, dim);
  }
  /** A view of indices `start..end` (end exclusive, negatives count from the end) along `dim`. */
  slice(dim: number, start?: number, end?: number): Tensor {
    return ops.slice(this, dim, start, end);
  }
  /** Values at `index` (int32) along `dim`, as `torch.gather`. */
  gather(dim: number, index: Tensor): Tensor {
    return ops.gather(this, dim, index);
  }
  /** Softmax along `dim` (numerically stable). */
  softmax(dim: number): Tensor {
    return ops.softmax(this, dim);
  }
  /** Log of softmax along `dim`, computed stably. */
  logSoftmax(dim: number): Tensor {
    return ops.logSoftmax(this, dim);
  }
  /** A copy with its own memory, connected to this tensor in the autograd graph. */
  clone(): Tensor {
    return ops.clone(this);
  }
  /** This tensor when it is already contiguous, else a contiguous copy (gradients flow through). */
  contiguous(): Tensor {
    return ops.contiguous(this);
  }
}

function toNested(values: TypedArray, shape: Shape): unknown {
  if (shape.length === 0) return values[0];
  const build = (dim: number, offset: number): unknown[] => {
    const n = shape[dim];
    const step = sizeOf(shape.slice(dim + 1));
    const out = new Array(n);
    for (let i = 0; i < n; i++)
      out[i] = dim === shape.length - 1 ? values[offset + i] : build(dim + 1, offset + i * step);
    return out;
  };
  return build(0, 0);
}

let warnedNonLeafGrad = false;

/** PyTorch's warning for `.grad` of a non-leaf, given once per process. */
function warnNonLeafGrad(): void {
  if (warnedNonLeafGrad) return;
  warnedNonLeafGrad = true;
  console.warn(
    'The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute ' +
      "won't be populated during backward(). To get the gradient of an intermediate value, make it a leaf " +
      '(y = x.op().detach().requiresGrad_()) and feed that leaf to the rest of the computation.',
  );
}

/** @internal records `node` on `out` when grad mode is on and an input needs a gradient. */
export function needsGrad(inputs: readonly (Tensor | null)[]): boolean {
  if (!isGradEnabled()) return false;
  for (let k = 0; k < inputs.length; k++) if (inputs[k]?.requiresGrad) return true;
  return false;
}

/** The JSON form of a tensor (see {@link Tensor.toJSON}). */
export interface TensorJSON {
  dtype: DType;
  shape: number[];
  backend: string;
  /** Nested arrays of the values, when they could be read synchronously. */
  values?: unknown;
  /** Why `values` is missing. */
  note?: string;
}
