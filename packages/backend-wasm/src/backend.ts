/** The `wasm` backend: storage in one linear memory, kernels from the AssemblyScript module. */
import type {
  Backend,
  BackendBuffer,
  BackendCapabilities,
  BackendMemory,
  DType,
  KernelArgs,
  KernelName,
  Kernels,
  LinearArgs,
  MatmulArgs,
  PointwiseArgs,
  PreparedKernel,
  TypedArray,
} from '@nabla/core';
import { E, pointwiseProgram } from '@nabla/core';
import { own, WasmBuffer } from './buffer.js';
import * as bn from './kernels/batchnorm.js';
import * as fl from './kernels/fill.js';
import * as idx from './kernels/indexing.js';
import * as mm from './kernels/matmul.js';
import * as pw from './kernels/pointwise.js';
import * as red from './kernels/reduce.js';
import * as ce from './kernels/softmax-cross-entropy.js';
import { compileKernels, MAX_PAGES } from './module.js';
import { threadSupport } from './pool.js';
import { Runtime } from './runtime.js';
import { resolveThreading, type Threading } from './threading.js';

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** Threads for matmul and large kernels, including the calling one. Default: all cores. */
  readonly threads?: number;
  /** Use the relaxed-SIMD build (fused multiply-add): `'auto'` (default) when the engine validates it. */
  readonly relaxedSimd?: boolean | 'auto';
  /** Run each kernel family once at start so the engine's optimizing tier is ready. Default true. */
  readonly warmup?: boolean;
  /**
   * Compile a small wasm function per pointwise program for calls on the calling thread
   * (default true); false interprets every program (slower for long programs, same results).
   */
  readonly jit?: boolean;
  /**
   * Thread-pool tuning: the work below which a kernel runs on the calling thread, and how long
   * idle threads spin before sleeping. Defaults measured on a 2-core machine (see the README).
   */
  readonly threading?: Partial<Threading>;
}

/** The wasm backend. Create it with {@link createWasmBackend}. */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly capabilities: BackendCapabilities;
  /** One linear memory of at most 4 GiB holds every tensor (core checks this before creating one). */
  readonly maxBufferBytes = MAX_PAGES * 65536;
  private liveBuffers = 0;
  private liveBytes = 0;
  private destroyed = false;

  /** Every kernel, the optional fused ones included; each runs from `kernels/<family>.ts`. */
  readonly kernels: Required<Kernels>;

  /** @internal use {@link createWasmBackend} */
  constructor(
    private readonly rt: Runtime,
    threadsReason: string,
  ) {
    this.kernels = {
      pointwise: (args) => pw.pointwise(rt, args),
      fill: (args) => fl.fill(rt, args),
      reduce: (args) => red.reduce(rt, args),
      matmul: (args) => mm.matmul(rt, args),
      gather: (args) => idx.gather(rt, args),
      scatterAdd: (args) => idx.scatterAdd(rt, args),
      batchNormTrain: (args) => bn.batchNormTrain(rt, args),
      batchNormBackward: (args) => bn.batchNormBackward(rt, args),
      linear: (args) => mm.linear(rt, args),
      softmaxCrossEntropy: (args) => ce.softmaxCrossEntropy(rt, args),
    };
    this.capabilities = {
      readSync: true,
      fallbacks: [],
      info: {
        threads: rt.threads,
        threadsReason,
        simd: true,
        relaxedSimd: rt.compiled.relaxedSimd,
        sharedMemory: rt.compiled.shared,
      },
    };
  }

  // ---- storage ------------------------------------------------------------------------
  alloc(size: number, dtype: DType): BackendBuffer {
    this.alive();
    if (!Number.isInteger(size) || size < 0)
      throw new Error(`wasm backend: cannot allocate ${size} elements of ${dtype}`);
    if (dtype !== 'float32' && dtype !== 'int32')
      throw new Error(`wasm backend: unsupported dtype '${dtype}'`);
    const ptr = this.rt.allocator.alloc(Math.max(16, size * 4));
    this.liveBuffers++;
    this.liveBytes += size * 4;
    return new WasmBuffer(size, dtype, ptr);
  }

  write(buffer: BackendBuffer, data: TypedArray): void {
    const b = own(buffer, 'write target');
    if (data.length > b.size) {
      throw new Error(
        `wasm backend: writing ${data.length} elements into a buffer of ${b.size} (${b.dtype})`,
      );
    }
    (b.dtype === 'float32' ? this.rt.f32 : this.rt.i32).set(data, b.ptr >>> 2);
  }

  read(buffer: BackendBuffer): Promise<TypedArray> {
    try {
      return Promise.resolve(this.readSync(buffer));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  readSync(buffer: BackendBuffer): TypedArray {
    const b = own(buffer, 'read source');
    const start = b.ptr >>> 2;
    // slice copies out of (possibly shared) linear memory into an ordinary array
    return (b.dtype === 'float32' ? this.rt.f32 : this.rt.i32).slice(start, start + b.size);
  }

  disposeBuffer(buffer: BackendBuffer): void {
    const b = own(buffer, 'disposed buffer');
    b.disposed = true;
    this.rt.allocator.free(b.ptr, Math.max(16, b.size * 4));
    this.liveBuffers--;
    this.liveBytes -= b.size * 4;
  }

  /** Live buffers and bytes, and `reservedBytes`: the linear memory's size (it never shrinks). */
  memory(): BackendMemory {
    return {
      buffers: this.liveBuffers,
      bytes: this.liveBytes,
      reservedBytes: this.rt.memory.buffer.byteLength,
    };
  }

  // ---- compiled programs ----------------------------------------------------------------
  /** Pointwise programs get a planned descriptor of their own; matmuls a resolved gemm. */
  prepare<K extends KernelName>(kernel: K, args: KernelArgs<K>): PreparedKernel | null {
    this.alive();
    if (kernel === 'pointwise') return pw.preparePointwise(this.rt, args as PointwiseArgs);
    if (kernel === 'matmul') return mm.prepareGemm(this.rt, { kernel, args: args as MatmulArgs });
    if (kernel === 'linear') return mm.prepareGemm(this.rt, { kernel, args: args as LinearArgs });
    return null;
  }

  async sync(): Promise<void> {}

  /** Terminates the worker threads; the backend is unusable afterwards. */
  destroy(): void {
    this.destroyed = true;
    this.rt.destroy();
  }

  /**
   * Allocator counters since start (diagnostics): blocks `reused` from a size class's free
   * list, `fresh` ones from the bump pointer, and how often linear memory `grows`.
   */
  get allocatorStats(): Readonly<{ reused: number; fresh: number; grows: number }> {
    return this.rt.allocator.stats;
  }

  /**
   * Thread-pool counters (diagnostics): kernels split across the pool, the shares they posted,
   * shares the caller ran past its own (no worker had started them), times the caller blocked.
   */
  get poolStats(): Readonly<{ runs: number; shares: number; stolen: number; callerWaits: number }> {
    return this.rt.pool?.stats ?? { runs: 0, shares: 0, stolen: 0, callerWaits: 0 };
  }

  /** Bytes of linear memory in use by buffers, free lists and scratch (for diagnostics). */
  get heapBytes(): number {
    return this.rt.allocator.heapTop;
  }

  private alive(): void {
    if (this.destroyed) throw new Error('wasm backend: used after destroy()');
  }
}

/**
 * Creates the wasm backend: compiles the inlined SIMD kernels (relaxed SIMD when the engine
 * has it), starts the worker pool on a shared memory when allowed, and warms the kernels up.
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const support = await threadSupport();
  const requested = options.threads ?? support.cores;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new Error(`wasm backend: threads must be a positive integer, got ${String(options.threads)}`);
  }
  let threads = support.ok ? Math.min(requested, 64) : 1;
  let reason = support.ok ? `${threads} thread(s): ${support.reason}` : `1 thread: ${support.reason}`;
  if (support.ok && requested === 1) reason = '1 thread (requested)';
  const compiled = await compileKernels(threads > 1, options.relaxedSimd ?? 'auto');
  const rt = await Runtime.create(compiled);
  rt.threading = resolveThreading(options.threading);
  try {
    await rt.startThreads(threads);
  } catch (err) {
    threads = 1;
    reason = `1 thread: workers failed to start (${(err as Error).message})`;
    rt.pool = null;
  }
  pw.setPointwiseJit(rt, options.jit !== false);
  const backend = new WasmBackend(rt, reason);
  if (options.warmup !== false) warmup(backend);
  return backend;
}

const WARMUP_ADD = pointwiseProgram('warmupAdd', {
  inputs: ['float32', 'float32'],
  outputs: [E.add(E.input(0), E.input(1))],
});
const WARMUP_RELU = pointwiseProgram('warmupRelu', {
  inputs: ['float32'],
  outputs: [E.select(E.gt(E.input(0), 0), E.input(0), 0)],
});

/** Runs the hot kernels a few times so the first real step does not pay for tier-up. */
function warmup(b: WasmBackend): void {
  const n = 96;
  const x = b.alloc(n * n, 'float32');
  const y = b.alloc(n * n, 'float32');
  const z = b.alloc(n * n, 'float32');
  const k = b.kernels;
  k.fill({ out: x, value: 0.5 });
  k.fill({ out: y, value: 0.25 });
  for (let i = 0; i < 4; i++) {
    // both the plain and the transposed packing paths
    for (const trans of [false, true]) {
      k.matmul({
        a: x,
        b: y,
        out: z,
        batch: 1,
        m: n,
        n,
        k: n,
        transA: trans,
        transB: trans,
        strideA: 0,
        strideB: 0,
      });
    }
  }
  // a broadcast add and a ReLU through pointwise programs (compiled, then interpreted blocks)
  const strides = [n, 1];
  k.pointwise({
    program: WARMUP_ADD,
    inputs: [
      { buffer: x, offset: 0, strides },
      { buffer: y, offset: 0, strides: [0, 1] },
    ],
    scalars: [],
    outputs: [z],
    shape: [n, n],
  });
  k.pointwise({
    program: WARMUP_RELU,
    inputs: [{ buffer: z, offset: 0, strides }],
    scalars: [],
    outputs: [z],
    shape: [n, n],
  });
  k.reduce({ op: 'sum', x: z, out: x, outer: 1, size: n, inner: n });
  for (const buf of [x, y, z]) b.disposeBuffer(buf);
}
