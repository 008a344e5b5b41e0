/**
 * A pool of worker threads sharing the backend's `WebAssembly.Memory`. The calling thread is
 * thread 0 and always runs the first share of a job itself; workers 1..n-1 are woken through
 * their wake words in the control block (see worker-source.ts). `run` returns when every
 * share is done, so kernels stay synchronous.
 */
import {
  CLAIM_OFFSET,
  MAX_ARGS,
  nodeWorkerSource,
  SHARES_PER_THREAD,
  SLOT_BYTES,
  webWorkerSource,
} from './worker-source.js';

interface AnyWorker {
  terminate(): unknown;
}

/** Why threads are or are not available in this environment. */
export interface ThreadSupport {
  readonly ok: boolean;
  readonly reason: string;
  readonly cores: number;
  readonly node: boolean;
}

const isNode =
  typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node;

/**
 * Imports a Node built-in only when called, through a computed specifier so browser bundlers
 * neither resolve nor bundle it (this package must load in browsers unchanged).
 */
function nodeBuiltin<T>(name: string): Promise<T> {
  const specifier = `node:${name}`;
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

/** Whether shared memory and workers exist here, and how many cores there are. */
export async function threadSupport(): Promise<ThreadSupport> {
  if (isNode) {
    const os = await nodeBuiltin<typeof import('node:os')>('os');
    const cores =
      typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    return { ok: true, reason: 'node worker_threads with shared WebAssembly.Memory', cores, node: true };
  }
  const g = globalThis as {
    crossOriginIsolated?: boolean;
    Worker?: unknown;
    navigator?: { hardwareConcurrency?: number };
  };
  const cores = g.navigator?.hardwareConcurrency ?? 1;
  if (typeof SharedArrayBuffer === 'undefined' || g.crossOriginIsolated !== true) {
    return {
      ok: false,
      reason:
        'shared memory is unavailable: the page is not cross-origin isolated (serve it with ' +
        'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
      cores,
      node: false,
    };
  }
  if (typeof g.Worker !== 'function')
    return { ok: false, reason: 'Web Workers are unavailable here', cores, node: false };
  return { ok: true, reason: 'Web Workers with shared WebAssembly.Memory', cores, node: false };
}

/** Worker threads running the kernels of one module on one shared memory. */
export class ThreadPool {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly done: number;
  private destroyed = false;
  /** The calling thread may block in Atomics.wait (Node, workers); a browser main thread may not. */
  private readonly canWait: boolean;
  /**
   * Diagnostics: `runs` kernels split across the pool, `shares` their shares (argument lists),
   * `stolen` shares past its own the caller ran because no worker had started them,
   * `callerWaits` times the caller blocked.
   */
  readonly stats = { runs: 0, shares: 0, stolen: 0, callerWaits: 0 };

  private constructor(
    private readonly workers: AnyWorker[],
    memory: WebAssembly.Memory,
    private readonly ctrl: number,
    private readonly fns: ((...args: number[]) => void)[],
    private readonly spinMs: number,
  ) {
    const slots = (workers.length + 1) * SHARES_PER_THREAD;
    this.i32 = new Int32Array(memory.buffer, 0, (ctrl >>> 2) + slots * (SLOT_BYTES / 4));
    this.f64 = new Float64Array(memory.buffer, 0, (ctrl >>> 3) + slots * (SLOT_BYTES / 8));
    this.done = ctrl >>> 2;
    this.canWait = isNode;
    // no job posted yet: a claim word of 0 would hand a worker a job that does not exist
    for (let w = 1; w < slots; w++) Atomics.store(this.i32, this.claim(w), 2);
  }

  /** Index (in 32-bit words) of slot w's claim word. */
  private claim(w: number): number {
    return (this.ctrl + w * SLOT_BYTES + CLAIM_OFFSET) >>> 2;
  }

  /** Threads including the caller. */
  get size(): number {
    return this.workers.length + 1;
  }

  /** Most shares one {@link run} may post: {@link SHARES_PER_THREAD} per thread. */
  get maxShares(): number {
    return this.size * SHARES_PER_THREAD;
  }

  /** Bytes of the zeroed control block a pool of `threads` needs. */
  static controlBytes(threads: number): number {
    return threads * SHARES_PER_THREAD * SLOT_BYTES;
  }

  /**
   * Starts `threads - 1` workers. `ctrl` is a zeroed block of {@link ThreadPool.controlBytes} in
   * the shared memory; `names` lists the module's exports, indexed by the ids `run` takes.
   * An idle thread spins `spinMicros` on its wake word (or the done counter), then blocks in
   * `Atomics.wait`: a worker never burns a core while the caller runs small kernels alone.
   */
  static async create(
    threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    ctrl: number,
    names: readonly string[],
    exportsObj: Record<string, unknown>,
    spinMicros: number,
  ): Promise<ThreadPool> {
    const workers: AnyWorker[] = [];
    const ready: Promise<void>[] = [];
    const data = (slot: number) => ({
      module,
      memory,
      ctrl,
      slot,
      threads,
      names: [...names],
      spinMs: spinMicros / 1000,
    });
    try {
      if (isNode) {
        const { Worker } = await nodeBuiltin<typeof import('node:worker_threads')>('worker_threads');
        for (let slot = 1; slot < threads; slot++) {
          const w = new Worker(nodeWorkerSource, { eval: true });
          workers.push(w);
          ready.push(
            new Promise((resolve, reject) => {
              w.once('message', () => resolve());
              w.once('error', reject);
            }),
          );
          w.postMessage(data(slot));
        }
      } else {
        const url = URL.createObjectURL(new Blob([webWorkerSource], { type: 'text/javascript' }));
        const W = (globalThis as unknown as { Worker: new (u: string) => Worker }).Worker;
        for (let slot = 1; slot < threads; slot++) {
          const w = new W(url);
          workers.push(w);
          ready.push(
            new Promise((resolve, reject) => {
              w.onmessage = () => resolve();
              w.onerror = (e) => reject(new Error(`wasm backend: worker failed to start: ${e.message}`));
            }),
          );
          w.postMessage(data(slot));
        }
      }
      await Promise.all(ready);
      // only now: an unref'd worker would let Node exit while we wait for 'ready'. Afterwards
      // the pool must never keep the process alive.
      if (isNode) for (const w of workers) (w as unknown as { unref(): void }).unref();
    } catch (err) {
      for (const w of workers) w.terminate();
      throw err;
    }
    const fns = names.map((n) => exportsObj[n] as (...args: number[]) => void);
    return new ThreadPool(workers, memory, ctrl, fns, spinMicros / 1000);
  }

  /**
   * Runs export `fn` once per entry of `jobs` (its argument list) and returns when all are
   * done. The first runs on this thread, the next `size - 1` on the workers (one each); any
   * beyond those belong to no thread and are taken by whoever is free: a worker after its own
   * share, in order, and this thread after its own, from the last. A share no worker has
   * started when this thread is free is run here too (work stealing), so a worker that is
   * asleep or descheduled costs at most its wake-up notice, never a wait for it, and a slower
   * thread ends up with fewer shares.
   */
  run(fn: number, jobs: readonly (readonly number[])[]): void {
    if (this.destroyed) throw new Error('wasm backend: the thread pool was destroyed');
    const n = jobs.length;
    if (n > this.maxShares)
      throw new Error(
        `wasm backend: ${n} jobs for a pool of ${this.size} threads (at most ${this.maxShares})`,
      );
    const i32 = this.i32;
    const f64 = this.f64;
    for (const args of jobs) {
      if (args.length > MAX_ARGS)
        throw new Error(`wasm backend: ${args.length} kernel arguments (max ${MAX_ARGS})`);
    }
    this.stats.runs++;
    this.stats.shares += n;
    Atomics.store(i32, this.done, 0);
    Atomics.store(i32, this.done + 1, n);
    for (let w = 1; w < n; w++) {
      const args = jobs[w] as readonly number[];
      const base = (this.ctrl + w * SLOT_BYTES) >>> 2;
      i32[base + 1] = fn;
      i32[base + 2] = args.length;
      i32[base + 3] = 0;
      const ab = (this.ctrl + w * SLOT_BYTES + 16) >>> 3;
      for (let i = 0; i < args.length; i++) f64[ab + i] = args[i] as number;
      Atomics.store(i32, this.claim(w), 0); // publishes the job (the writes above happen before)
      if (w >= this.size) continue; // no thread of its own: claimed by whoever is free
      Atomics.add(i32, base, 1);
      Atomics.notify(i32, base, 1);
    }
    const kernel = this.fns[fn] as (...a: number[]) => void;
    try {
      kernel(...(jobs[0] as number[]));
      // steal the shares no worker has claimed yet, last first (the latest-woken worker)
      for (let w = n - 1; w >= 1; w--) {
        if (Atomics.compareExchange(i32, this.claim(w), 0, 2) !== 0) continue;
        this.stats.stolen++;
        try {
          kernel(...(jobs[w] as number[]));
        } finally {
          Atomics.add(i32, this.done, 1);
        }
      }
    } finally {
      // after a throw: cancel the shares nobody started (the error is reported anyway)
      for (let w = 1; w < n; w++) {
        if (Atomics.compareExchange(i32, this.claim(w), 0, 2) === 0) Atomics.add(i32, this.done, 1);
      }
      // even when this thread's share threw, wait for the workers: their writes must land
      // before the next job reuses the control block. Spin a little (the workers' shares usually end with ours), then block until notified
      const target = n - 1;
      const t0 = performance.now();
      for (let spins = 0; ; spins++) {
        const d = Atomics.load(i32, this.done);
        if (d >= target) break;
        if ((spins & 63) === 63 && this.canWait && performance.now() - t0 > this.spinMs) {
          this.stats.callerWaits++;
          Atomics.wait(i32, this.done, d, 1);
        }
      }
    }
    for (let w = 1; w < n; w++) {
      if (i32[((this.ctrl + w * SLOT_BYTES) >>> 2) + 3] !== 0) {
        throw new Error(
          `wasm backend: kernel trapped on worker ${w} (out-of-bounds access or invalid arguments)`,
        );
      }
    }
  }

  /** Stops and terminates every worker. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (let w = 1; w <= this.workers.length; w++) {
      const base = (this.ctrl + w * SLOT_BYTES) >>> 2;
      this.i32[base + 1] = -1;
      Atomics.store(this.i32, this.claim(w), 0);
      Atomics.add(this.i32, base, 1);
      Atomics.notify(this.i32, base, 1);
    }
    for (const w of this.workers) w.terminate();
  }
}
