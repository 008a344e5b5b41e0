/**
 * One instantiated kernel module: its memory, allocator, views, thread pool and scratch.
 * Kernel wrappers (src/kernels/*) call exports through {@link Runtime.call} (this thread)
 * or {@link Runtime.parallel} (split across the pool).
 */
import { Allocator } from './allocator.js';
import { type CompiledKernels, MAX_PAGES } from './module.js';
import { ThreadPool } from './pool.js';
import { DEFAULT_THREADING, type Threading } from './threading.js';
import { SHARES_PER_THREAD } from './worker-source.js';

type Fn = (...args: number[]) => void;

/** A block of the module's memory that grows (at least doubling) when asked for more; never shrinks. */
class GrowingBlock {
  private ptr = 0;
  private bytes = 0;

  constructor(private readonly allocator: Allocator) {}

  /** The block's address, after growing it to hold at least `bytes`. */
  atLeast(bytes: number): number {
    if (bytes > this.bytes) {
      if (this.ptr) this.allocator.free(this.ptr, this.bytes);
      this.bytes = Math.max(bytes, this.bytes * 2);
      this.ptr = this.allocator.alloc(this.bytes);
    }
    return this.ptr;
  }
}

export class Runtime {
  readonly memory: WebAssembly.Memory;
  readonly allocator: Allocator;
  f32!: Float32Array;
  i32!: Int32Array;
  private readonly fns: Record<string, Fn>;
  private readonly ids = new Map<string, number>();
  pool: ThreadPool | null = null;
  /** When kernels split across the pool, and how long idle threads spin (see threading.ts). */
  threading: Threading = DEFAULT_THREADING;
  /** Per-thread sgemm scratch (packed panels), one block per thread. */
  readonly gemmScratch: number[] = [];
  private readonly scratchBlock: GrowingBlock;
  private readonly packBlock: GrowingBlock;
  /** sgemm's block sizes (depth KC, columns NC), read from the module. */
  readonly gemmBlocking: { readonly kc: number; readonly nc: number };
  readonly sgemmScratchBytes: number;
  readonly bnScratchPerChannel: number;
  /** This thread's instance's exports (for modules compiled at run time that import from it). */
  readonly exports: WebAssembly.Exports;
  /** The module's exported integer constants (block sizes, opcodes), by name. */
  readonly constants: ReadonlyMap<string, number>;

  private constructor(
    readonly compiled: CompiledKernels,
    instance: WebAssembly.Instance,
    memory: WebAssembly.Memory,
  ) {
    this.memory = memory;
    const ex = instance.exports as Record<string, unknown>;
    this.fns = {};
    for (const [name, v] of Object.entries(ex)) {
      if (typeof v === 'function') {
        this.ids.set(name, this.ids.size);
        this.fns[name] = v as Fn;
      }
    }
    this.exports = instance.exports;
    const constants = new Map<string, number>();
    for (const [name, v] of Object.entries(ex))
      if (v instanceof WebAssembly.Global) constants.set(name, v.value as number);
    this.constants = constants;
    const g = (name: string) => (ex[name] as WebAssembly.Global).value as number;
    this.sgemmScratchBytes = g('SCRATCH_BYTES');
    this.bnScratchPerChannel = g('BN_SCRATCH_PER_CHANNEL');
    this.gemmBlocking = { kc: g('KC'), nc: g('NC') };
    const base = (ex.heapBase as () => number)();
    this.allocator = new Allocator(memory, base, MAX_PAGES, () => this.refreshViews());
    this.scratchBlock = new GrowingBlock(this.allocator);
    this.packBlock = new GrowingBlock(this.allocator);
    this.refreshViews();
  }

  /** Instantiates `compiled` on a new memory (shared when the build is). */
  static async create(compiled: CompiledKernels): Promise<Runtime> {
    const memory = new WebAssembly.Memory(
      compiled.shared
        ? { initial: 64, maximum: MAX_PAGES, shared: true }
        : { initial: 64, maximum: MAX_PAGES },
    );
    const instance = await WebAssembly.instantiate(compiled.module, { env: { memory } });
    return new Runtime(compiled, instance, memory);
  }

  /** Starts `threads - 1` workers on this runtime's shared memory and per-thread scratch. */
  async startThreads(threads: number): Promise<void> {
    // one sgemm scratch block per share a split product may post (shares move between threads)
    const shares = threads <= 1 ? 1 : threads * SHARES_PER_THREAD;
    for (let t = 0; t < shares; t++) this.gemmScratch.push(this.allocator.alloc(this.sgemmScratchBytes));
    if (threads <= 1) return;
    const bytes = ThreadPool.controlBytes(threads);
    const ctrl = this.allocator.alloc(bytes + 64);
    this.i32.fill(0, ctrl >>> 2, (ctrl + bytes) >>> 2);
    const names = [...this.ids.keys()];
    this.pool = await ThreadPool.create(
      threads,
      this.compiled.module,
      this.memory,
      ctrl,
      names,
      this.fns,
      this.threading.spinMicros,
    );
  }

  /** Threads kernels may be split across (1 without a pool). */
  get threads(): number {
    return this.pool ? this.pool.size : 1;
  }

  /** Most shares one {@link parallel} call may post (1 without a pool). */
  get maxShares(): number {
    return this.pool ? this.pool.maxShares : 1;
  }

  /** Calls an export on this thread. */
  call(name: string, ...args: number[]): void {
    this.callWith(name, args);
  }

  /** Calls an export on this thread with an argument list (no rest-argument copy). */
  callWith(name: string, args: readonly number[]): void {
    const f = this.fns[name];
    if (!f) throw new Error(`wasm backend: no kernel named '${name}' in the module`);
    f.apply(undefined, args as number[]);
  }

  /** Calls an export once per argument list, across the pool when there is more than one. */
  parallel(name: string, jobs: readonly (readonly number[])[]): void {
    if (jobs.length === 1 || !this.pool) {
      for (let j = 0; j < jobs.length; j++) this.callWith(name, jobs[j]);
      return;
    }
    const id = this.ids.get(name);
    if (id === undefined) throw new Error(`wasm backend: no kernel named '${name}' in the module`);
    this.pool.run(id, jobs);
  }

  /** A scratch block of at least `bytes` for this thread's fused kernels (grown, never shrunk). */
  scratch(bytes: number): number {
    return this.scratchBlock.atLeast(bytes);
  }

  /** The shared packed-B block of threaded matmuls (grown, never shrunk; not a tensor). */
  packScratch(bytes: number): number {
    return this.packBlock.atLeast(bytes);
  }

  private refreshViews(): void {
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  destroy(): void {
    this.pool?.destroy();
    this.pool = null;
  }
}
