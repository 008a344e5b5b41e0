/**
 * The backend interface: the only thing a device has to implement.
 *
 * Core owns shapes, broadcasting, dtypes, autograd and memory policy. A backend owns
 * buffers and runs kernels on them. Every kernel writes into an output buffer that core
 * allocated with {@link Backend.alloc}; kernels never allocate tensors themselves, so
 * ownership (and `memory()`) stays exact.
 *
 * Inputs to elementwise kernels are {@link StridedView}s: a buffer, an element offset and
 * one stride per output dimension. A stride of 0 is how broadcasting reaches a kernel; a
 * permuted stride is how a transposed view reaches it, so elementwise kernels need no
 * separate "broadcast" or "transpose" variants. Reductions, matmul and the fused kernels
 * take contiguous (row-major, offset 0) buffers: core makes inputs contiguous first.
 *
 * Each kernel takes one argument object ({@link Kernels}); the same object is what
 * {@link Backend.prepare} resolves and what a compiled program rebinds between replays.
 *
 * See `docs/backends.md` for a walk-through of writing a backend.
 * @packageDocumentation
 */

import type { PointwiseProgram } from './expr/program.js';

/** Element types a tensor can hold. */
export type DType = 'float32' | 'int32';

/** The typed array that stores a given dtype on the host. */
export type TypedArray = Float32Array | Int32Array;

/**
 * An opaque handle to device memory, created by {@link Backend.alloc}. Core never looks
 * inside; each backend defines its own (a typed array, a wasm pointer, a GPUBuffer...).
 */
export interface BackendBuffer {
  /** Number of elements the buffer holds. */
  readonly size: number;
  /** Element type of the buffer. */
  readonly dtype: DType;
}

/** A strided read of a buffer: element `i0, i1, ...` lives at `offset + Σ ik * strides[k]`. */
export interface StridedView {
  readonly buffer: BackendBuffer;
  /** Offset in elements (not bytes). */
  readonly offset: number;
  /** One stride per dimension of the output shape (0 for broadcast dimensions). */
  readonly strides: readonly number[];
}

/**
 * Arguments of {@link Kernels.pointwise}: evaluate `program` at every position of `shape`.
 * Input k is read through `inputs[k]` (strided, stride 0 for broadcast dims); output j is
 * written contiguously (row-major, offset 0) into `outputs[j]`, which holds `prod(shape)`
 * elements of `program.outputDtypes[j]`.
 *
 * In place: an output buffer may also be an input buffer when that input's view is the
 * identity (offset 0, row-major strides of `shape`); a kernel reads every input of an element
 * before it writes that element's outputs. Optimizer updates rely on this.
 */
export interface PointwiseArgs {
  readonly program: PointwiseProgram;
  readonly inputs: readonly StridedView[];
  /** One value per `program.scalars` entry (int32 scalars are whole numbers). */
  readonly scalars: readonly number[];
  readonly outputs: readonly BackendBuffer[];
  readonly shape: readonly number[];
}

/**
 * @deprecated Elementwise ops are pointwise programs now (see {@link PointwiseArgs}); these
 * names remain only for backends that still carry their old unary/binary kernels.
 */
export type UnaryOp =
  | 'copy'
  | 'neg'
  | 'abs'
  | 'sign'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'relu'
  | 'sigmoid'
  | 'tanh'
  | 'square'
  | 'reciprocal';

/** @deprecated See {@link UnaryOp}. */
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge';

/** Axis reductions. `argmax`/`argmin` write int32 indices (first occurrence on ties). */
export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

/** Arguments of {@link Kernels.fill}: every element of `out` becomes `value` (truncated for int32). */
export interface FillArgs {
  readonly out: BackendBuffer;
  readonly value: number;
}

/**
 * A pointwise program evaluated inside a reduction (see {@link ReduceArgs}): `inputs[k]` is
 * read strided over the shape the expression runs on (stride 0 to broadcast), `scalars` has
 * one value per `program.scalars` entry, and the program has exactly one output.
 */
export interface ReduceExpression {
  readonly program: PointwiseProgram;
  readonly inputs: readonly StridedView[];
  readonly scalars: readonly number[];
}

/** The fields every {@link ReduceArgs} has. */
interface ReduceCommon {
  readonly op: ReduceOp;
  readonly out: BackendBuffer;
  readonly outer: number;
  readonly size: number;
  readonly inner: number;
  /**
   * Applied to each reduced value before it is stored (sum/max/min only): input 0 is the
   * reduced value (the reduction's dtype), inputs 1.. are views over the `[outer, inner]`
   * output shape. `out` holds `program.outputDtypes[0]`.
   */
  readonly epilogue?: ReduceExpression;
}

/**
 * Arguments of {@link Kernels.reduce}: reduces an `[outer, size, inner]` input over its middle
 * axis into `[outer, inner]`. `size` is at least 1 for max/min/argmax/argmin; for `sum` a size
 * of 0 gives 0 (then the epilogue, if any). The input is either a contiguous buffer `x`, or
 * (sum/max/min only) an `input` expression whose views are strided over `[outer, size, inner]`:
 * the value reduced at `[o, r, i]` is the program's output there, in its output dtype.
 */
export type ReduceArgs =
  | (ReduceCommon & { readonly x: BackendBuffer; readonly input?: undefined })
  | (ReduceCommon & { readonly input: ReduceExpression; readonly x?: undefined });

/**
 * Arguments of {@link Kernels.matmul}: batched matrix product on contiguous matrices,
 * `out[b] = op(A[b]) · op(B[b])`, shapes `[m,k]·[k,n]`.
 */
export interface MatmulArgs {
  readonly a: BackendBuffer;
  readonly b: BackendBuffer;
  readonly out: BackendBuffer;
  /** Number of matrices in the batch (1 for a plain matmul). */
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** A is stored as `[k, m]` row-major and used transposed. */
  readonly transA: boolean;
  /** B is stored as `[n, k]` row-major and used transposed. */
  readonly transB: boolean;
  /** Elements between consecutive A matrices; 0 broadcasts one A over the batch. */
  readonly strideA: number;
  /** Elements between consecutive B matrices; 0 broadcasts one B over the batch. */
  readonly strideB: number;
}

/**
 * The layout gather and scatter-add share: a contiguous `[outer, size, inner]` array indexed
 * along its middle axis by an int32 `index: [outer, k, inner]` (already checked to lie in
 * `[0, size)`).
 */
export interface AxisIndexLayout {
  readonly index: BackendBuffer;
  readonly outer: number;
  readonly size: number;
  readonly k: number;
  readonly inner: number;
}

/**
 * Arguments of {@link Kernels.gather}: `out[o, j, i] = x[o, index[o, j, i], i]` for
 * `x: [outer, size, inner]`, `out: [outer, k, inner]`.
 */
export interface GatherArgs extends AxisIndexLayout {
  readonly x: BackendBuffer;
  readonly out: BackendBuffer;
}

/**
 * Arguments of {@link Kernels.scatterAdd}, the adjoint of gather: zero
 * `out: [outer, size, inner]`, then `out[o, index[o, j, i], i] += src[o, j, i]`.
 */
export interface ScatterAddArgs extends AxisIndexLayout {
  readonly src: BackendBuffer;
  readonly out: BackendBuffer;
}

/**
 * Shape of the batch-norm kernels' input: contiguous `(N, C, L)`; a 2D `(N, C)` input is passed
 * with `L = 1`. Statistics are taken per channel over N and L.
 */
export interface BatchNormShape {
  readonly n: number;
  readonly c: number;
  readonly l: number;
}

/**
 * Arguments of {@link Kernels.batchNormTrain}, training-mode batch norm statistics and forward:
 * per channel c, `mean[c]` and the biased `variance[c]` over N and L;
 * `out = (x - mean) / sqrt(variance + eps) * gamma + beta`, then `max(0, ·)` when `relu`.
 * `gamma`/`beta` are null when the layer is not affine. Must stay accurate when |mean| >> std
 * (use shifted sums or Welford, not a float32 sum of squares). Core never calls it with an
 * empty batch (N·L = 0).
 *
 * The ReLU is core's `relu` applied to the float32 value the kernel would store without it,
 * bit for bit: `v < 0 ? 0 : v` (NaN and -0 pass through), in the same pass that writes `out`.
 */
export interface BatchNormTrainArgs {
  readonly x: BackendBuffer;
  readonly gamma: BackendBuffer | null;
  readonly beta: BackendBuffer | null;
  readonly out: BackendBuffer;
  readonly mean: BackendBuffer;
  readonly variance: BackendBuffer;
  readonly shape: BatchNormShape;
  readonly eps: number;
  readonly relu: boolean;
}

/**
 * Arguments of {@link Kernels.batchNormBackward}, closed-form batch norm backward through the
 * batch statistics. With `invStd = 1/sqrt(variance + eps)`, `xhat = (x-mean)*invStd` and
 * `M = N*L`: `dbeta = Σ dy`, `dgamma = Σ dy*xhat`,
 * `dx = gamma*invStd/M * (M*dy - dbeta - xhat*dgamma)` (gamma = 1 when null). `dgamma`/`dbeta`
 * are always written (callers may ignore them). Core never calls it with an empty batch.
 *
 * `reluOutput` non-null: the forward ran with `relu` and this is its output, shape of `x`. The
 * kernel then uses `dy' = reluOutput > 0 ? dy : 0` in place of `dy` everywhere (dbeta, dgamma
 * and dx), bit for bit core's relu gradient: 0 where the output is <= 0 or NaN, `dy` (NaN
 * included) where it is > 0.
 */
export interface BatchNormBackwardArgs {
  readonly dy: BackendBuffer;
  readonly x: BackendBuffer;
  readonly mean: BackendBuffer;
  readonly variance: BackendBuffer;
  readonly gamma: BackendBuffer | null;
  readonly dx: BackendBuffer;
  readonly dgamma: BackendBuffer;
  readonly dbeta: BackendBuffer;
  readonly reluOutput: BackendBuffer | null;
  readonly shape: BatchNormShape;
  readonly eps: number;
}

/** Arguments of {@link Kernels.linear}: `out[m, n] = Σ_k x[m, k] * w[n, k] + bias[n]`, then `max(0, ·)` when `relu`. */
export interface LinearArgs {
  readonly x: BackendBuffer;
  readonly w: BackendBuffer;
  readonly bias: BackendBuffer | null;
  readonly out: BackendBuffer;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly relu: boolean;
}

/**
 * Arguments of {@link Kernels.softmaxCrossEntropy}: per-row softmax cross-entropy of
 * `logits: [rows, classes]` against int32 `targets: [rows]`:
 * `loss[r] = logSumExp(logits[r]) - logits[r, t]`, computed as `(shift[r] - logits[r, t]) +
 * logSum[r]`, where `shift[r]` is the row maximum (0 when it is -Infinity) and
 * `logSum[r] = log Σ_c exp(logits[r, c] - shift[r])`; both are saved for the backward (a
 * pointwise program in core: `exp((logit - shift) - logSum)` keeps full precision where a
 * rounded float32 log-sum-exp of large logits would not). Rows whose target equals
 * `ignoreIndex` get loss 0. Core checks the targets before the call (each is in
 * `[0, classes)` or `ignoreIndex`) and never calls it with zero rows.
 */
export interface SoftmaxCrossEntropyArgs {
  readonly logits: BackendBuffer;
  readonly targets: BackendBuffer;
  readonly loss: BackendBuffer;
  readonly shift: BackendBuffer;
  readonly logSum: BackendBuffer;
  readonly rows: number;
  readonly classes: number;
  readonly ignoreIndex: number;
}

/**
 * A backend's kernels, by name: each takes one argument object and writes into output buffers
 * core allocated. The primitives are required; the fused group is optional, and core composes
 * an absent fused kernel from primitives (presence is the capability: there is no list to keep).
 *
 * A plain object of functions: call counters and `compile`'s capture wrap it while they run.
 */
export interface Kernels {
  /**
   * Evaluates a pointwise program (see {@link PointwiseArgs}): every elementwise op, cast and
   * copy, and every gradient formula of one. The backend renders each program once (JS
   * source, a wasm program, WGSL) and caches the result by program.
   */
  readonly pointwise: (args: PointwiseArgs) => void;
  /** Fills a buffer with a constant; see {@link FillArgs}. */
  readonly fill: (args: FillArgs) => void;
  /** Axis reduction; see {@link ReduceArgs}. */
  readonly reduce: (args: ReduceArgs) => void;
  /** Batched matrix product; see {@link MatmulArgs}. */
  readonly matmul: (args: MatmulArgs) => void;
  /** Gather along the middle axis; see {@link GatherArgs}. */
  readonly gather: (args: GatherArgs) => void;
  /** Scatter-add along the middle axis; see {@link ScatterAddArgs}. */
  readonly scatterAdd: (args: ScatterAddArgs) => void;
  /** Optional fused batch norm forward; see {@link BatchNormTrainArgs}. */
  readonly batchNormTrain?: (args: BatchNormTrainArgs) => void;
  /** Optional fused batch norm backward; see {@link BatchNormBackwardArgs}. */
  readonly batchNormBackward?: (args: BatchNormBackwardArgs) => void;
  /** Optional fused linear layer; see {@link LinearArgs}. */
  readonly linear?: (args: LinearArgs) => void;
  /** Optional fused softmax cross-entropy forward; see {@link SoftmaxCrossEntropyArgs}. */
  readonly softmaxCrossEntropy?: (args: SoftmaxCrossEntropyArgs) => void;
}

/** Name of a kernel in {@link Kernels}. */
export type KernelName = keyof Kernels;

/** The argument object of kernel `K`. */
export type KernelArgs<K extends KernelName = KernelName> = Parameters<NonNullable<Kernels[K]>>[0];

/** Names of the optional fused kernels, in a fixed order. */
export const FUSED_KERNELS = [
  'batchNormTrain',
  'batchNormBackward',
  'linear',
  'softmaxCrossEntropy',
] as const satisfies readonly KernelName[];

/** Name of an optional fused kernel. */
export type FusedKernel = (typeof FUSED_KERNELS)[number];

/** The fused kernels `backend` implements (those present in its kernel table). */
export function fusedKernels(backend: Backend): FusedKernel[] {
  return FUSED_KERNELS.filter((k) => typeof backend.kernels[k] === 'function');
}

/** What a backend can do beyond its kernel table, for users and for the conformance suite. */
export interface BackendCapabilities {
  /** True when {@link Backend.readSync} exists (cpu, wasm), false for WebGPU. */
  readonly readSync: boolean;
  /**
   * Kernels this backend hands to another backend, with the reason. Empty for a complete
   * backend; never silent.
   */
  readonly fallbacks: readonly { kernel: string; to: string; reason: string }[];
  /** Free-form facts worth showing a user (threads, SIMD, adapter name). */
  readonly info?: Readonly<Record<string, string | number | boolean>>;
  /**
   * The most distinct buffers (inputs and outputs together) one `pointwise` call may bind,
   * where the device limits it (WebGPU: storage buffers per shader stage). Fusion in `compile`
   * keeps fused programs within it. Absent: no limit.
   */
  readonly maxPointwiseBuffers?: number;
}

/** A kernel call resolved once by {@link Backend.prepare}, run on every replay of a program. */
export interface PreparedKernel {
  /** Runs the call with its arguments' current buffers and scalars. */
  run(): void;
  /** Frees what preparing allocated; `run` is not called afterwards. */
  release(): void;
}

/** Bytes and buffers a backend holds right now. */
export interface BackendMemory {
  readonly buffers: number;
  readonly bytes: number;
  /**
   * Bytes the backend holds from the system, live or free, where that differs from `bytes`: the
   * wasm backend's linear memory, which grows for large tensors and never shrinks.
   */
  readonly reservedBytes?: number;
}

/**
 * A compute device: storage (buffers and host transfers), a table of {@link Kernels}, and life
 * cycle. Which optional kernels it has is read from the table itself.
 */
export interface Backend {
  /** Registry name, e.g. `'cpu'`. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** The largest buffer it can allocate, in bytes, when it has a fixed limit (creation ops check it first). */
  readonly maxBufferBytes?: number;

  // ---- storage -------------------------------------------------------------------------
  /** Allocates `size` elements of `dtype`; contents are unspecified (core writes or overwrites them). */
  alloc(size: number, dtype: DType): BackendBuffer;
  /** Copies host data into the buffer, starting at element 0. `data.length <= buffer.size`. */
  write(buffer: BackendBuffer, data: TypedArray): void;
  /** Copies the whole buffer to the host. Resolves once device work before it has finished. */
  read(buffer: BackendBuffer): Promise<TypedArray>;
  /** Synchronous read, where the device allows it (absent on WebGPU). */
  readSync?(buffer: BackendBuffer): TypedArray;
  /** Returns the buffer's memory. Using it afterwards is a bug core prevents. */
  disposeBuffer(buffer: BackendBuffer): void;
  /** Bytes and buffers held. */
  memory(): BackendMemory;

  // ---- kernels -------------------------------------------------------------------------
  /** The kernels, by name (see {@link Kernels}). */
  readonly kernels: Kernels;

  // ---- compiled programs ---------------------------------------------------------------
  /**
   * Resolves one kernel call for repeated replay by a compiled program (see `compile`): what
   * depends only on shapes, layouts and the program (validation, plans, descriptors, thread
   * splits) is done here once. `run()` must then do exactly what `kernels[kernel](args)` does
   * with `args` as it is at that moment: a program keeps one argument object per call and
   * rebinds its input and output buffers and rewrites per-call scalars inside it between runs
   * (same sizes and dtypes); every other field stays as it was. Returns null for calls the
   * backend does not prepare (the program then calls the kernel). `release()` frees what
   * preparing took.
   */
  prepare?<K extends KernelName>(kernel: K, args: KernelArgs<K>): PreparedKernel | null;

  // ---- life cycle ----------------------------------------------------------------------
  /** Waits until queued work is done (no-op for synchronous backends). */
  sync?(): Promise<void>;
  /** Releases everything (device, workers). The backend is unusable afterwards. */
  destroy?(): void;
}

/** Bytes per element of a dtype. */
export function bytesPerElement(dtype: DType): number {
  void dtype; // float32 and int32 are both 4 bytes; a future float16 is not
  return 4;
}

/** Allocates a host typed array of the dtype. */
export function hostArray(dtype: DType, size: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
}
