/**
 * From a recording to a program: every buffer the recorded calls touch is classified, and
 * the calls are rewritten over buffers the program owns.
 * - inputs: the argument tensors' buffers, rebound on every call;
 * - outputs: fresh buffers for the returned tensors, made on every call;
 * - state: buffers that outlive the call (parameters, gradients, optimizer moments, running
 *   statistics), updated in place and shared with eager code; the program holds a reference;
 * - temporaries: buffers the call allocated and freed; they get a static plan: buffers owned
 *   by the program, reused by liveness, so a replay allocates nothing.
 */
import type { Backend, BackendBuffer, DType, KernelArgs, PreparedKernel } from '../backend.js';
import { Storage, storageOf } from '../storage.js';
import { Tensor } from '../tensor.js';
import { eachBuffer, isBackendBuffer, isContainer } from './buffers.js';
import type { RecordedStep, Recording } from './capture.js';
import { fusePointwise } from './fuse.js';
import { mergeSiblings } from './siblings.js';

/**
 * Where a rebound buffer must be written: a field of a call's argument object (or an element
 * of an array inside it, such as a pointwise call's `outputs`).
 */
type Location = [container: Record<string | number, unknown>, key: string | number];

/** A buffer bound per call: an input or a fresh output. */
interface Slot {
  readonly locations: Location[];
}

/** What a replay runs and rebinds. */
export interface PlannedProgram {
  readonly backend: Backend;
  readonly steps: readonly (() => void)[];
  readonly inputSlots: readonly Slot[];
  readonly outputSlots: readonly (Slot & { readonly size: number; readonly dtype: DType })[];
  /** Storages of state buffers: each must still have an owner besides the program. */
  readonly state: readonly Storage[];
  /** Storages of the planned temporaries (the program alone owns them). */
  readonly temporaries: readonly Storage[];
  /** Kernel calls the backend resolved once (`Backend.prepare`), released with the program. */
  readonly prepared: readonly PreparedKernel[];
  /** Kernel calls per replay. */
  readonly kernelCalls: number;
  /** Backend calls per replay, by method (what a call counter is told a replay made). */
  readonly callsByMethod: ReadonlyMap<string, number>;
}

function buffersOf(step: RecordedStep): BackendBuffer[] {
  const found: BackendBuffer[] = [];
  if (step.kind === 'call') eachBuffer(step.args, (b) => found.push(b));
  else if (step.kind === 'write' || step.kind === 'check') found.push(step.buffer);
  return found;
}

/**
 * Plans the program. `inputs` and `outputs` are the buffers of the argument and returned
 * tensors (outputs that are also state are not listed: they are returned as views of it).
 */
export function planProgram(
  rec: Recording,
  inputs: readonly BackendBuffer[],
  outputs: readonly BackendBuffer[],
  options: { fuse: boolean; prepare: boolean },
): PlannedProgram {
  const isTemporary = (b: BackendBuffer) =>
    rec.allocatedAt.has(b) && rec.freedAt.has(b) && !inputs.includes(b) && !outputs.includes(b);
  const maxBuffers = rec.backend.capabilities.maxPointwiseBuffers;
  const recorded = options.fuse
    ? mergeSiblings(fusePointwise(rec.steps, isTemporary, maxBuffers), maxBuffers)
    : rec.steps;
  const firstUse = new Map<BackendBuffer, number>();
  const lastUse = new Map<BackendBuffer, number>();
  recorded.forEach((step, i) => {
    for (const b of buffersOf(step)) {
      if (!firstUse.has(b)) firstUse.set(b, i);
      lastUse.set(b, i);
    }
  });

  const inputSlot = new Map<BackendBuffer, number>();
  inputs.forEach((b) => {
    if (!inputSlot.has(b)) inputSlot.set(b, inputSlot.size);
  });
  const outputSlot = new Map<BackendBuffer, number>();
  outputs.forEach((b) => {
    if (!outputSlot.has(b) && !inputSlot.has(b)) outputSlot.set(b, outputSlot.size);
  });

  // Classify, and give temporaries buffers reused by liveness (same dtype and size).
  const mapped = new Map<BackendBuffer, BackendBuffer>();
  const state: Storage[] = [];
  const temporaries: Storage[] = [];
  const pool = new Map<string, { storage: Storage; freeAfter: number }[]>();
  const byFirstUse = [...firstUse.keys()].sort((a, b) => firstUse.get(a)! - firstUse.get(b)!);
  for (const b of byFirstUse) {
    if (inputSlot.has(b) || outputSlot.has(b)) continue;
    const madeHere = rec.allocatedAt.has(b);
    const freedHere = rec.freedAt.has(b);
    if (madeHere && freedHere) {
      const key = `${b.dtype}:${b.size}`;
      const candidates = pool.get(key) ?? [];
      pool.set(key, candidates);
      const start = firstUse.get(b)!;
      let reuse = candidates.find((c) => c.freeAfter < start);
      if (!reuse) {
        reuse = { storage: Storage.alloc(rec.backend, b.size, b.dtype), freeAfter: -1 };
        reuse.storage.retain();
        temporaries.push(reuse.storage);
        candidates.push(reuse);
      }
      reuse.freeAfter = lastUse.get(b)!;
      mapped.set(b, reuse.storage.buffer);
    } else if (freedHere) {
      throw new Error(
        'compile: the function reads a tensor that existed before the call and frees it during the call ' +
          '(for example gradients accumulated across calls: call opt.zeroGrad() inside the compiled function), ' +
          'so a replay would read freed memory. Run this function eagerly.',
      );
    } else {
      const storage = storageOf(b);
      if (!storage) throw new Error('compile: a kernel touched a buffer that no tensor owns');
      storage.retain();
      state.push(storage);
      mapped.set(b, b);
    }
  }

  const inputSlots: Slot[] = [...inputSlot.keys()].map(() => ({ locations: [] }));
  const outputSlots = [...outputSlot.keys()].map((b) => ({
    locations: [] as Location[],
    size: b.size,
    dtype: b.dtype,
  }));
  const rebind = (value: Record<string | number, unknown>): Record<string | number, unknown> => {
    const copy = (Array.isArray(value) ? [] : {}) as Record<string | number, unknown>;
    for (const key of Object.keys(value)) {
      const v = value[key];
      const k = Array.isArray(value) ? Number(key) : key;
      if (isBackendBuffer(v)) {
        const slot = inputSlot.get(v) ?? -1;
        const out = outputSlot.get(v) ?? -1;
        if (slot >= 0) inputSlots[slot].locations.push([copy, k]);
        else if (out >= 0) outputSlots[out].locations.push([copy, k]);
        copy[k] = mapped.get(v) ?? v;
      } else copy[k] = isContainer(v) ? rebind(v) : v;
    }
    return copy;
  };

  const backend = rec.backend;
  const prepared: PreparedKernel[] = [];
  let kernelCalls = 0;
  const callsByMethod = new Map<string, number>();
  const called = (method: string) => callsByMethod.set(method, (callsByMethod.get(method) ?? 0) + 1);
  let steps: ((() => void) | null)[];
  try {
    steps = recorded.map((step): (() => void) | null => {
      switch (step.kind) {
        case 'effect':
          return step.run;
        case 'write': {
          called('write');
          const target = rebind({ b: step.buffer }) as { b: BackendBuffer };
          const write = rec.write!;
          const { data, draw } = step;
          return draw ? () => write(target.b, draw()) : () => write(target.b, data);
        }
        case 'check': {
          if (inputSlot.has(step.buffer)) return null; // checked before the replay starts
          const target = rebind({ b: step.buffer });
          const { shape, strides, offset, check } = step;
          return () => {
            const view = new Tensor(storageOf(target.b as BackendBuffer)!, shape, strides, offset);
            try {
              check(view);
            } finally {
              view.dispose();
            }
          };
        }
        case 'call': {
          kernelCalls++;
          called(step.kernel);
          // one argument object per call, owned by the program: slots rebind its buffer fields
          // and per-call scalars are rewritten in place before each run (the backend reads them then)
          const args = rebind(step.args as unknown as Record<string, unknown>) as unknown as KernelArgs;
          const thunks = step.scalarThunks;
          const ready = options.prepare ? (backend.prepare?.(step.kernel, args) ?? null) : null;
          if (ready) prepared.push(ready);
          const kernel = rec.kernels.get(step.kernel)!;
          const run = ready ? () => ready.run() : () => kernel(args);
          if (!thunks) return run;
          const values = (args as unknown as { scalars: number[] }).scalars;
          return () => {
            for (let i = 0; i < thunks.length; i++) {
              const read = thunks[i];
              if (read) values[i] = read();
            }
            run();
          };
        }
        default:
          throw new Error(`compile: unknown recorded step ${(step as { kind: string }).kind}`);
      }
    });
  } catch (err) {
    for (const p of prepared) p.release();
    throw err;
  }
  return {
    backend,
    steps: steps.filter((s) => s !== null),
    inputSlots,
    outputSlots,
    state,
    temporaries,
    prepared,
    kernelCalls,
    callsByMethod,
  };
}
