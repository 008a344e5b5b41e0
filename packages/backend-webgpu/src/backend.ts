/**
 * The WebGPU backend: buffers from a size-class pool, kernels encoded into the runtime's
 * pending command stream, reads through a mapped staging buffer.
 */
import type {
  Backend,
  BackendBuffer,
  BackendCapabilities,
  BackendMemory,
  DType,
  KernelArgs,
  KernelName,
  Kernels,
  PreparedKernel,
  ReduceArgs,
  ReduceExpression,
  TypedArray,
} from '@nabla/core';
import { checkPointwiseArgs, checkReduceArgs, reduceStaged } from '@nabla/core';
import { type AcquiredDevice, acquireDevice, type DeviceOptions } from './device.js';
import * as bn from './kernels/batchnorm.js';
import * as ix from './kernels/indexing.js';
import * as mm from './kernels/matmul.js';
import { dispatchPointwise } from './kernels/pointwise.js';
import * as rp from './kernels/reduce-program.js';
import * as ce from './kernels/softmax-cross-entropy.js';
import { BufferPool, sizeClass } from './pool.js';
import { type BindGroupCache, type Binding, Runtime } from './runtime.js';

/** A device buffer: `size` elements of `dtype` in a pooled `GPUBuffer` of `classBytes` bytes. */
export class WebGpuBuffer implements BackendBuffer {
  /** @internal */ released = false;
  constructor(
    /** The device that owns the memory: buffers never move between devices. */
    readonly device: GPUDevice,
    readonly size: number,
    readonly dtype: DType,
    readonly gpu: GPUBuffer,
    readonly classBytes: number,
  ) {}
}

/** `memory()` of the WebGPU backend: live tensor buffers, plus what waits in the pool. */
export interface WebGpuMemory extends BackendMemory {
  /** Bytes of pooled (free, reusable) buffers; not counted in `bytes`. */
  readonly pooledBytes: number;
  readonly pooledBuffers: number;
  /** Bytes the live buffers occupy on the device (size classes round requests up). */
  readonly deviceBytes: number;
}

/** Options of {@link createWebGpuBackend}. */
export interface WebGpuBackendOptions extends DeviceOptions {
  /** Most bytes of freed buffers kept for reuse (default 256 MiB). */
  readonly maxPooledBytes?: number;
  /** Called once if the device is lost, with the reason. */
  readonly onDeviceLost?: (message: string) => void;
  /** Lowers the per-dimension workgroup count used for dispatches (tests use it to reach the 2D path at small sizes). */
  readonly maxWorkgroupsPerDimension?: number;
}

/** The {@link Backend} implementation; create it with {@link createWebGpuBackend}. */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly capabilities: BackendCapabilities;
  /** Every kernel, the optional fused ones included. */
  readonly kernels: Required<Kernels>;
  private readonly table: Required<Kernels>;
  private readonly device: GPUDevice;
  private readonly runtime: Runtime;
  private readonly pool: BufferPool;
  private readonly maxPerDim: number;
  private readonly maxBinding: number;

  /** The largest tensor this device binds, in bytes (core checks it before creating a tensor). */
  get maxBufferBytes(): number {
    return this.maxBinding;
  }
  /** Dawn's GPU object: referenced for as long as this backend (and its device) lives. */
  private readonly keepAlive: unknown;
  private liveBytes = 0;
  private liveClassBytes = 0;
  private liveBuffers = 0;
  private destroyed = false;

  constructor(acquired: AcquiredDevice, options: WebGpuBackendOptions = {}) {
    this.device = acquired.device;
    this.keepAlive = acquired.keepAlive;
    this.runtime = new Runtime(this.device, options.onDeviceLost);
    this.pool = new BufferPool(this.device, options.maxPooledBytes ?? 256 * 1024 * 1024);
    const limits = this.device.limits;
    this.maxPerDim = Math.min(
      limits.maxComputeWorkgroupsPerDimension,
      options.maxWorkgroupsPerDimension ?? Infinity,
    );
    this.maxBinding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    this.table = this.makeKernels();
    this.kernels = this.table;
    this.capabilities = {
      readSync: false,
      fallbacks: [],
      maxPointwiseBuffers: limits.maxStorageBuffersPerShaderStage,
      info: {
        adapter: acquired.adapterName,
        runtime: acquired.keepAlive ? 'node (Dawn)' : 'navigator.gpu',
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      },
    };
  }

  /** Dispatch, pipeline and submit counters (for tests and diagnostics). */
  get stats(): Readonly<{ dispatches: number; submits: number; pipelines: number; bindGroups: number }> {
    return this.runtime.stats;
  }

  private guard(op: string): void {
    if (this.destroyed) throw new Error(`WebGPU backend: '${op}' called after destroy()`);
    this.runtime.check(op);
  }

  private buf(b: BackendBuffer, op: string): WebGpuBuffer {
    if (!(b instanceof WebGpuBuffer)) {
      throw new Error(`WebGPU backend: '${op}' got a buffer from another backend`);
    }
    if (b.device !== this.device) {
      throw new Error(
        `WebGPU backend: '${op}' got a buffer from another WebGPU device (tensors do not survive device loss)`,
      );
    }
    if (b.released) throw new Error(`WebGPU backend: '${op}' got a disposed buffer`);
    return b;
  }

  private bind(b: BackendBuffer, op: string, write = false): Binding {
    return { buffer: this.buf(b, op).gpu, write };
  }

  // ---- storage ----------------------------------------------------------------------

  alloc(size: number, dtype: DType): BackendBuffer {
    this.guard('alloc');
    if (!Number.isInteger(size) || size < 0)
      throw new Error(`WebGPU backend: cannot allocate ${size} elements`);
    const bytes = size * 4;
    const classBytes = sizeClass(bytes);
    if (classBytes > this.maxBinding) {
      throw new Error(
        `WebGPU backend: a ${dtype} buffer of ${size} elements (${bytes} bytes) exceeds this device's ` +
          `largest storage binding (${this.maxBinding} bytes)`,
      );
    }
    const gpu = this.pool.acquire(classBytes, `nabla-${dtype}-${size}`);
    this.liveBytes += bytes;
    this.liveClassBytes += classBytes;
    this.liveBuffers++;
    return new WebGpuBuffer(this.device, size, dtype, gpu, classBytes);
  }

  write(buffer: BackendBuffer, data: TypedArray): void {
    this.guard('write');
    const b = this.buf(buffer, 'write');
    if (data.length > b.size) {
      throw new Error(`WebGPU backend: write of ${data.length} elements into a buffer of ${b.size}`);
    }
    const expected = b.dtype === 'float32' ? Float32Array : Int32Array;
    if (!(data instanceof expected)) {
      throw new Error(`WebGPU backend: write of ${data.constructor.name} into a ${b.dtype} buffer`);
    }
    this.runtime.write(b.gpu, data);
  }

  async read(buffer: BackendBuffer): Promise<TypedArray> {
    this.guard('read');
    const b = this.buf(buffer, 'read');
    const bytes = await this.runtime.read(b.gpu, b.size * 4);
    return b.dtype === 'float32' ? new Float32Array(bytes) : new Int32Array(bytes);
  }

  disposeBuffer(buffer: BackendBuffer): void {
    const b = this.buf(buffer, 'disposeBuffer');
    b.released = true;
    this.liveBytes -= b.size * 4;
    this.liveClassBytes -= b.classBytes;
    this.liveBuffers--;
    if (this.destroyed) return;
    // Pending commands may still use it: the pool hands it out only to later commands, in order.
    if (!this.pool.release(b.gpu, b.classBytes)) this.runtime.destroyLater(b.gpu);
  }

  memory(): WebGpuMemory {
    const pooled = this.pool.pooled;
    return {
      buffers: this.liveBuffers,
      bytes: this.liveBytes,
      pooledBytes: pooled.bytes,
      pooledBuffers: pooled.buffers,
      deviceBytes: this.liveClassBytes,
    };
  }

  // ---- kernels --------------------------------------------------------------------

  /** The kernel table: validates and binds buffers, then encodes from `kernels/<family>.ts`. */
  private makeKernels(): Required<Kernels> {
    return {
      fill: ({ out, value }) => {
        this.guard('fill');
        const o = this.buf(out, 'fill');
        const bits = new ArrayBuffer(4);
        if (o.dtype === 'float32') new Float32Array(bits)[0] = value;
        else new Int32Array(bits)[0] = value;
        const word = new Uint32Array(bits)[0];
        ix.fill(this.runtime, this.maxPerDim, [this.bind(out, 'fill', true)], o.dtype, o.size, word);
      },

      pointwise: (args) => {
        checkPointwiseArgs(args, 'WebGPU');
        const op = `pointwise ${args.program.name}`;
        this.guard(op);
        const limits = {
          maxWorkgroupsPerDimension: this.maxPerDim,
          maxStorageBuffersPerShaderStage: this.device.limits.maxStorageBuffersPerShaderStage,
        };
        dispatchPointwise(this.runtime, limits, {
          program: args.program,
          inputs: args.inputs.map((v) => ({
            buffer: this.buf(v.buffer, op),
            offset: v.offset,
            strides: v.strides,
          })),
          scalars: args.scalars,
          outputs: args.outputs.map((o) => this.buf(o, op)),
          shape: args.shape,
        });
      },

      reduce: (args) => {
        checkReduceArgs(args, 'WebGPU');
        this.reduce(args);
      },

      matmul: (args) => this.gemm('matmul', args.a, args.b, null, args.out, args, false),

      gather: ({ x, index, out, outer, size, k, inner }) => {
        this.guard('gather');
        const xb = this.buf(x, 'gather');
        const bindings = [this.bind(x, 'gather'), this.bind(index, 'gather'), this.bind(out, 'gather', true)];
        ix.gatherOrScatterAdd(
          this.runtime,
          this.maxPerDim,
          'gather',
          bindings,
          xb.dtype,
          outer,
          size,
          k,
          inner,
        );
      },

      scatterAdd: ({ src, index, out, outer, size, k, inner }) => {
        this.guard('scatterAdd');
        const sb = this.buf(src, 'scatterAdd');
        const bindings = [
          this.bind(src, 'scatterAdd'),
          this.bind(index, 'scatterAdd'),
          this.bind(out, 'scatterAdd', true),
        ];
        ix.gatherOrScatterAdd(
          this.runtime,
          this.maxPerDim,
          'scatterAdd',
          bindings,
          sb.dtype,
          outer,
          size,
          k,
          inner,
        );
      },

      batchNormTrain: ({ x, gamma, beta, out, mean, variance, shape, eps, relu }) => {
        this.guard('batchNormTrain');
        const bindings = [this.bind(x, 'batchNormTrain')];
        if (gamma) bindings.push(this.bind(gamma, 'batchNormTrain'));
        if (beta) bindings.push(this.bind(beta, 'batchNormTrain'));
        bindings.push(this.bind(out, 'batchNormTrain', true));
        bindings.push(this.bind(mean, 'batchNormTrain', true));
        bindings.push(this.bind(variance, 'batchNormTrain', true));
        const source = bn.batchNormTrainSource(gamma !== null, beta !== null, relu);
        bn.batchNorm(this.runtime, this.maxPerDim, 'batchNormTrain', source, bindings, shape, eps);
      },

      batchNormBackward: ({ dy, x, mean, variance, gamma, dx, dgamma, dbeta, reluOutput, shape, eps }) => {
        const op = 'batchNormBackward';
        this.guard(op);
        this.buf(mean, op); // validated, not read: the kernel recomputes the mean exactly from x
        const bindings = [this.bind(dy, op), this.bind(x, op), this.bind(variance, op)];
        if (gamma) bindings.push(this.bind(gamma, op));
        if (reluOutput) bindings.push(this.bind(reluOutput, op));
        bindings.push(this.bind(dx, op, true), this.bind(dgamma, op, true), this.bind(dbeta, op, true));
        const source = bn.batchNormBackwardSource(gamma !== null, reluOutput !== null);
        bn.batchNorm(this.runtime, this.maxPerDim, op, source, bindings, shape, eps);
      },

      linear: ({ x, w, bias, out, m, n, k, relu }) => {
        const args: mm.GemmShape = { batch: 1, m, n, k, transA: false, transB: true, strideA: 0, strideB: 0 };
        this.gemm('linear', x, w, bias, out, args, relu);
      },

      softmaxCrossEntropy: ({ logits, targets, loss, shift, logSum, rows, classes, ignoreIndex }) => {
        const op = 'softmaxCrossEntropy';
        this.guard(op);
        ce.softmaxCrossEntropy(
          this.runtime,
          this.maxPerDim,
          [
            this.bind(logits, op),
            this.bind(targets, op),
            this.bind(loss, op, true),
            this.bind(shift, op, true),
            this.bind(logSum, op, true),
            { buffer: this.runtime.deviceErrors.bufferFor(op), write: true },
          ],
          rows,
          classes,
          ignoreIndex,
        );
      },
    };
  }

  /**
   * A reduction, rendered into one reduction shader (kernels/reduce-program.ts) with its input
   * (a contiguous buffer, or a program) and epilogue: one dispatch, two when the axis is cut
   * into chunks. Only when that shader would bind more storage buffers than the device allows
   * (or need more uniform words than a slot holds) do the programs run apart: the input
   * program as a pointwise dispatch into pooled scratch, the plain reduction, then the
   * epilogue, each with fewer bindings. Either way it is one kernel call with no tensor in
   * between.
   */
  private reduce(args: ReduceArgs): void {
    const { op, epilogue, out, outer, size, inner } = args;
    const name = `reduce(${op})`;
    this.guard(name);
    const x = args.input === undefined ? this.buf(args.x, 'reduce') : null;
    const o = this.buf(out, x === null ? name : 'reduce');
    const views = (e: ReduceExpression) =>
      e.inputs.map((v) => ({ buffer: this.buf(v.buffer, name).gpu, offset: v.offset, strides: v.strides }));
    const input =
      args.input === undefined
        ? { buffer: x!.gpu, dtype: x!.dtype }
        : { program: args.input.program, views: views(args.input), scalars: args.input.scalars };
    const epilogueViews = epilogue === undefined ? null : views(epilogue);
    if (outer * inner === 0) return;
    // private scratch from the pool: not a tensor buffer, so no alloc/dispose a replay would see
    const scratch: WebGpuBuffer[] = [];
    const temp = (n: number, dtype: DType) => {
      const classBytes = sizeClass(Math.max(1, n) * 4);
      if (classBytes > this.maxBinding)
        throw new Error(
          `WebGPU backend: reduce '${op}' needs ${n} elements of scratch, over the largest binding`,
        );
      const b = new WebGpuBuffer(
        this.device,
        n,
        dtype,
        this.pool.acquire(classBytes, 'nabla-reduce-scratch'),
        classBytes,
      );
      scratch.push(b);
      return b;
    };
    try {
      const limits = {
        maxWorkgroupsPerDimension: this.maxPerDim,
        maxStorageBuffersPerShaderStage: this.device.limits.maxStorageBuffersPerShaderStage,
      };
      const fused = rp.reduceProgramStages(
        this.runtime,
        limits,
        {
          op,
          input,
          epilogue:
            epilogue === undefined || epilogueViews === null
              ? null
              : { program: epilogue.program, views: epilogueViews, scalars: epilogue.scalars },
          out: o.gpu,
          outer,
          size,
          inner,
        },
        (n, dtype) => temp(n, dtype).gpu,
      );
      // Over the binding (or uniform) limit: the staged path, each dispatch binding less. A plain
      // reduction always fits (two buffers; checkReduceArgs gives it no epilogue).
      if (!fused && args.input !== undefined)
        reduceStaged(this.table, { op, input: args.input, epilogue, out, outer, size, inner }, temp);
    } finally {
      // safe at once: the pool hands a buffer out only to later commands, in order
      for (const b of scratch) {
        b.released = true;
        if (!this.pool.release(b.gpu, b.classBytes)) this.runtime.destroyLater(b.gpu);
      }
    }
  }

  private gemm(
    label: string,
    a: BackendBuffer,
    b: BackendBuffer,
    bias: BackendBuffer | null,
    out: BackendBuffer,
    args: mm.GemmShape,
    relu: boolean,
  ): void {
    this.guard(label);
    const ab = this.buf(a, label);
    const bb = this.buf(b, label);
    if (ab.dtype !== bb.dtype) throw new Error(`WebGPU backend: ${label} of ${ab.dtype} and ${bb.dtype}`);
    const bindings = [this.bind(a, label), this.bind(b, label)];
    if (bias) bindings.push(this.bind(bias, label));
    bindings.push(this.bind(out, label, true));
    mm.gemm(this.runtime, this.maxPerDim, label, bindings, ab.dtype, args, bias !== null, relu);
  }

  // ---- lifecycle --------------------------------------------------------------------

  /** Submits pending work now (it is otherwise submitted on read, sync, or when the stream is full). */
  flush(): void {
    this.guard('flush');
    this.runtime.flush();
  }

  // ---- compiled programs ----------------------------------------------------------------
  /**
   * Any kernel call: its dispatches keep their bind groups from one run to the next while they
   * bind the same buffers (the pipelines are cached by source already; per-call shapes and
   * scalars travel in uniform slots, bound at a dynamic offset).
   */
  prepare<K extends KernelName>(kernel: K, args: KernelArgs<K>): PreparedKernel | null {
    this.guard('prepare');
    // this backend's own entry, not `this.kernels` (a call counter may have wrapped that)
    const run = this.table[kernel] as ((a: KernelArgs<K>) => void) | undefined;
    if (typeof run !== 'function') return null;
    const cache: BindGroupCache = [];
    return {
      run: () => this.runtime.withBindGroups(cache, () => run(args)),
      release: () => {
        cache.length = 0;
      },
    };
  }

  async sync(): Promise<void> {
    this.guard('sync');
    await this.runtime.sync();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.runtime.destroy();
    this.pool.clear();
    this.device.destroy();
  }
}

/**
 * Opens a WebGPU device (navigator.gpu, or Dawn's `webgpu` package in Node) and returns a
 * backend on it. Rejects with an explanation when no adapter is available.
 */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  return new WebGpuBackend(await acquireDevice(options), options);
}
