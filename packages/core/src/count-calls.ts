/**
 * Counting what a backend is asked to do: every kernel and method call, buffer allocations and
 * frees, and the device's own counters (WebGPU dispatches and queue submits) over a window of
 * work.
 * Counted by wrapping the backend object, never estimated; used by the bench to report calls
 * per training step and by tests that assert an allocation-free step.
 * @packageDocumentation
 */
import type { Backend } from './backend.js';
import { backendMethodNames, wrapKernels } from './backend-methods.js';

/** Counts over one window, from {@link BackendCallCounter.snapshot}. */
export interface BackendCallCounts {
  /** Every call into the backend (kernels, allocations, frees, writes, reads). */
  readonly calls: number;
  /** Calls that run a kernel: calls into `backend.kernels`. */
  readonly kernels: number;
  /** `alloc` calls: device buffers created. */
  readonly allocs: number;
  /** `disposeBuffer` calls: device buffers returned. */
  readonly frees: number;
  /** Calls per kernel or backend method name. */
  readonly byMethod: Readonly<Record<string, number>>;
  /**
   * The backend's own counters that changed in the window (the difference of each numeric field
   * of its `stats` object, when it has one): on WebGPU `dispatches` (compute passes' dispatches),
   * `submits` (queue submits) and `pipelines` (pipelines compiled).
   */
  readonly device: Readonly<Record<string, number>>;
}

/** A live counter on one backend; see {@link countBackendCalls}. */
export interface BackendCallCounter {
  /** The counts since the counter started or since the last {@link reset}. */
  snapshot(): BackendCallCounts;
  /** Starts a new window: zeroes the call counts and re-reads the device counters. */
  reset(): void;
  /** Removes the wrappers: the backend's methods and kernel table are its own again. Idempotent. */
  stop(): void;
}

type AnyFn = (...args: unknown[]) => unknown;

function deviceStats(backend: Backend): Record<string, number> {
  const stats = (backend as { stats?: unknown }).stats;
  const out: Record<string, number> = {};
  if (stats && typeof stats === 'object') {
    for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/**
 * Wraps every kernel and method of `backend` (in place, so tensors that already hold the
 * backend are counted too) with a counter, until `stop()`. Counted are the calls that enter the
 * backend from outside (core's calls, and a compiled program's replayed kernels, which it
 * reports); calls a backend makes to its own kernels and methods are not. Cost while
 * on: one map update per call; none after `stop()`. Wrapping a backend that is already being
 * counted is an error. Asynchronous methods count when called (a promise they return is not
 * awaited by the counter).
 *
 * ```ts
 * const counter = countBackendCalls(getBackend());
 * trainStep();
 * console.log(counter.snapshot()); // { calls: 131, kernels: 61, allocs: 35, frees: 35, ... }
 * counter.stop();
 * ```
 */
export function countBackendCalls(backend: Backend): BackendCallCounter {
  const target = backend as unknown as Record<string | symbol, unknown>;
  if (target[COUNTING])
    throw new Error(`countBackendCalls: backend '${backend.name}' is already being counted`);
  const counts = new Map<string, number>();
  // only calls that enter the backend from outside count: a backend method calling another of
  // its own (a private helper, `read` calling `readSync`) runs inside one counted call
  let depth = 0;
  const saved: { name: string; own: PropertyDescriptor | undefined }[] = [];
  const kernelNames = new Set<string>();
  const unwrapKernels = wrapKernels(backend, (name, original) => {
    kernelNames.add(name);
    return (args) => {
      if (depth === 0) counts.set(name, (counts.get(name) ?? 0) + 1);
      depth++;
      try {
        original(args);
      } finally {
        depth--;
      }
    };
  });
  for (const name of backendMethodNames(backend)) {
    if (name === 'memory') continue;
    const original = target[name] as AnyFn;
    saved.push({ name, own: Object.getOwnPropertyDescriptor(backend, name) });
    Object.defineProperty(backend, name, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: function counted(this: unknown, ...args: unknown[]) {
        if (depth === 0) counts.set(name, (counts.get(name) ?? 0) + 1);
        depth++;
        try {
          return original.apply(this, args);
        } finally {
          depth--;
        }
      },
    });
  }
  const note: NoteCalls = (perMethod, run) => {
    for (const [name, n] of perMethod) counts.set(name, (counts.get(name) ?? 0) + n);
    // the calls run inside one counted call: helpers they call on the backend are not counted
    depth++;
    try {
      run();
    } finally {
      depth--;
    }
  };
  Object.defineProperty(backend, COUNTING, { configurable: true, value: note });
  let device0 = deviceStats(backend);
  let stopped = false;
  return {
    snapshot() {
      let calls = 0;
      let kernels = 0;
      const byMethod: Record<string, number> = {};
      for (const [name, n] of [...counts.entries()].sort((a, b) => b[1] - a[1])) {
        byMethod[name] = n;
        calls += n;
        if (kernelNames.has(name)) kernels += n;
      }
      const device: Record<string, number> = {};
      for (const [k, v] of Object.entries(deviceStats(backend))) device[k] = v - (device0[k] ?? 0);
      return {
        calls,
        kernels,
        allocs: counts.get('alloc') ?? 0,
        frees: counts.get('disposeBuffer') ?? 0,
        byMethod,
        device,
      };
    },
    reset() {
      counts.clear();
      device0 = deviceStats(backend);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const { name, own } of saved) {
        if (own) Object.defineProperty(backend, name, own);
        else delete target[name];
      }
      unwrapKernels();
      delete target[COUNTING];
    },
  };
}

/** Counts calls made by a route that bypasses the wrappers (a compiled program's replay) while `run` makes them. */
type NoteCalls = (perMethod: ReadonlyMap<string, number>, run: () => void) => void;

/** On a backend whose methods are wrapped by a live counter: that counter's {@link NoteCalls}. */
const COUNTING = Symbol('nabla.countingBackendCalls');

/**
 * Runs `run`, which calls into `backend` without passing through its (possibly wrapped)
 * kernel table, and reports those calls as `perMethod`: a compiled program replays through kernel
 * references resolved at capture, so it tells the counter what one replay calls. Just runs
 * `run` unless the backend is being counted. @internal
 */
export function withBackendCalls(
  backend: Backend,
  perMethod: ReadonlyMap<string, number>,
  run: () => void,
): void {
  const note = (backend as unknown as Record<symbol, NoteCalls | undefined>)[COUNTING];
  if (note) note(perMethod, run);
  else run();
}
