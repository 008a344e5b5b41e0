/**
 * `compile(fn)`: capture a step once, replay it as a planned program.
 *
 * The first call for an input signature (shapes, dtypes, layouts and backend of the tensor
 * arguments, the values of the others) runs `fn` eagerly while recording every backend call
 * (`capture.ts`); `plan.ts` turns the recording into a program over inputs, outputs, state and
 * temporaries. Later calls with that signature replay the program: a loop over pre-resolved
 * kernel calls, with per-call scalars re-read and host effects (step counts, gradients handed
 * to parameters, random draws) made again, and no allocation: a returned tensor's buffer is
 * reused by the next call once the caller has disposed of it.
 * What a replay cannot repeat (a host read inside `fn`, a promise) is an error at capture.
 */

import { withBackendCalls } from '../count-calls.js';
import { getBackend } from '../registry.js';
import { keep, tidy } from '../scope.js';
import { Storage } from '../storage.js';
import { Tensor } from '../tensor.js';
import { Recording } from './capture.js';
import { activeCapture } from './hooks.js';
import { type PlannedProgram, planProgram } from './plan.js';

/** Counters of a compiled function, for tests, the bench and the curious. */
export interface CompileStats {
  /** Calls that ran `fn` eagerly and recorded it. */
  readonly captures: number;
  /** Calls that replayed a recording. */
  readonly replays: number;
  /** Backend kernel calls one replay of the latest program makes. */
  readonly kernelCalls: number;
  /** Buffers the latest program owns for its temporaries, and their bytes. */
  readonly temporaryBuffers: number;
  readonly temporaryBytes: number;
}

/** Options of {@link compile}. */
export interface CompileOptions {
  /** Fold chains of pointwise kernels into one kernel each (default true). */
  fuse?: boolean;
  /**
   * Let the backend resolve each kernel call once (`Backend.prepare`, default true); false calls
   * the backend's methods on every replay, to compare.
   */
  prepare?: boolean;
}

/** A function made by {@link compile}: call it like `fn`; dispose it to free its programs. */
export interface CompiledFunction<A extends unknown[], R> {
  (...args: A): R;
  /** Frees every recorded program and the buffers it owns. Calling it afterwards captures again. */
  dispose(): void;
  /** Live counters. */
  readonly stats: CompileStats;
}

/** Where a returned tensor comes from on a replay. */
type OutputSource =
  | {
      readonly fresh: number;
      readonly shape: readonly number[];
      readonly strides: readonly number[];
      readonly offset: number;
    }
  | {
      readonly state: Storage;
      readonly shape: readonly number[];
      readonly strides: readonly number[];
      readonly offset: number;
    };

interface Variant {
  readonly program: PlannedProgram;
  readonly guards: Recording['guards'];
  /** The result with each tensor replaced by its index into `outputs`. */
  readonly template: unknown;
  readonly outputs: readonly OutputSource[];
  /** Storages the program holds for outputs that are state but touched by no kernel. */
  readonly extraRefs: readonly Storage[];
  /** Host-side checks of arguments (indices in range), run before any kernel. */
  readonly prechecks: readonly { readonly input: number; readonly check: Recording['prechecks'][number] }[];
  /** State whose holder each replay re-establishes (gradients): exempt from the staleness check. */
  readonly rehanded: ReadonlySet<object>;
  /**
   * Per fresh output, the storage the last replay returned, with one reference held here: when
   * the caller has let go of it (the usual loop disposes the loss), the next replay writes into
   * it again instead of allocating.
   */
  readonly returnedLast: (Storage | null)[];
  /** Arguments the call writes in place: each replay records the write (version, known range). */
  readonly writtenInputs: readonly number[];
}

const TENSOR_SLOT = Symbol('nabla.compile.output');

function isPromiseLike(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** The signature of a call, and its tensor arguments in order. */
function signatureOf(args: readonly unknown[]): { key: string; tensors: Tensor[] } {
  const tensors: Tensor[] = [];
  const parts: string[] = [];
  for (const a of args) {
    if (a instanceof Tensor) {
      const storage = a.storageFor('compile');
      const alias = tensors.findIndex((t) => t.storageFor('compile') === storage);
      tensors.push(a);
      parts.push(
        `T${a.dtype}[${a.shape}]/[${a.strides}]+${a.offset}#${storage.size}@${a.backend}${alias >= 0 ? `=${alias}` : ''}`,
      );
    } else if (a === undefined || a === null || ['number', 'string', 'boolean'].includes(typeof a)) {
      parts.push(JSON.stringify(a) ?? 'undefined');
    } else {
      throw new Error(
        `compile: arguments must be tensors, numbers, strings or booleans (got ${Array.isArray(a) ? 'an array' : typeof a}); ` +
          'close over other values instead',
      );
    }
  }
  return { key: parts.join('|'), tensors };
}

/** Replaces every tensor in a result (arrays and plain objects are searched) with `map(t)`. */
function mapTensors(value: unknown, map: (t: Tensor) => unknown): unknown {
  if (value instanceof Tensor) return map(value);
  if (Array.isArray(value)) return value.map((v) => mapTensors(v, map));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapTensors(v, map);
    return out;
  }
  return value;
}

function capture(
  fn: (...args: unknown[]) => unknown,
  args: readonly unknown[],
  tensors: readonly Tensor[],
  options: CompileOptions,
): { variant: Variant; result: unknown } {
  if (activeCapture())
    throw new Error('compile: a compiled function cannot be called while another one is being captured');
  const backend = tensors.length ? tensors[0].backendFor('compile') : getBackend();
  for (const t of tensors) {
    if (t.backendFor('compile') !== backend)
      throw new Error(`compile: arguments are on different backends, '${backend.name}' and '${t.backend}'`);
  }
  const versionsBefore = tensors.map((t) => t.version);
  const rec = new Recording(backend);
  rec.start();
  let raw: unknown;
  try {
    raw = tidy(() => {
      const r = fn(...args);
      if (isPromiseLike(r))
        throw new Error('compile: the function returned a promise; a compiled function must be synchronous');
      return r;
    });
  } finally {
    rec.stop();
  }
  if (rec.violation) throw rec.violation;
  // Returned tensors leave the graph: a replay records no autograd, so neither does a capture.
  const returned: Tensor[] = [];
  const detached = new Map<Tensor, Tensor>();
  const result = mapTensors(raw, (t) => {
    let d = detached.get(t);
    if (!d) {
      d = keep(t.detach());
      detached.set(t, d);
      // A tensor made by the call is replaced by its detached view (freeing its graph); one
      // that existed before (a parameter returned as is) stays the caller's.
      if (rec.allocatedAt.has(t.storageFor('compile').buffer)) t.dispose();
    }
    returned.push(d);
    return d;
  });
  const inputBuffers = tensors.map((t) => t.storageFor('compile').buffer);
  const fresh: Tensor[] = [];
  for (const t of returned) {
    const storage = t.storageFor('compile');
    const holders = returned.filter((r) => r.storageFor('compile') === storage).length;
    const made = rec.allocatedAt.has(storage.buffer) && !inputBuffers.includes(storage.buffer);
    if (made && storage.refCount === holders && !fresh.some((f) => f.storageFor('compile') === storage))
      fresh.push(t);
  }
  const freshBuffers = fresh.map((t) => t.storageFor('compile').buffer);
  // Checks of arguments run before the replay starts; the rest are steps of the program.
  const prechecks = rec.prechecks
    .map((check) => ({ input: inputBuffers.indexOf(check.buffer), check }))
    .filter(({ input }) => input >= 0);
  let program: PlannedProgram;
  try {
    program = planProgram(rec, inputBuffers, freshBuffers, {
      fuse: options.fuse ?? true,
      prepare: options.prepare ?? true,
    });
  } catch (err) {
    for (const t of returned) t.dispose();
    throw err;
  }
  const extraRefs: Storage[] = [];
  const outputs: OutputSource[] = returned.map((t) => {
    const storage = t.storageFor('compile');
    const layout = { shape: t.shape, strides: t.strides, offset: t.offset };
    const slot = freshBuffers.indexOf(storage.buffer);
    if (slot >= 0) return { fresh: slot, ...layout };
    if (!program.state.includes(storage) && !extraRefs.includes(storage)) {
      storage.retain();
      extraRefs.push(storage);
    }
    return { state: storage, ...layout };
  });
  let next = 0;
  const template = mapTensors(result, () => ({ [TENSOR_SLOT]: next++ }));
  return {
    variant: {
      program,
      guards: [...rec.guards],
      template,
      outputs,
      extraRefs,
      prechecks,
      rehanded: rec.rehandedStorages,
      // The capture's own results are the first the program may write into again.
      returnedLast: fresh.map((t) => {
        const storage = t.storageFor('compile');
        storage.retain();
        return storage;
      }),
      writtenInputs: tensors.flatMap((t, k) => (t.version !== versionsBefore[k] ? [k] : [])),
    },
    result,
  };
}

function guardsHold(v: Variant): boolean {
  for (const g of v.guards) if (!Object.is(g.read(), g.value)) return false;
  return true;
}

/** False when some state the program updates has no owner left but the program (replaced since capture). */
function stateOwned(v: Variant): boolean {
  for (const s of v.program.state) if (s.released || (s.refCount <= 1 && !v.rehanded.has(s))) return false;
  for (const s of v.extraRefs) if (s.released || s.refCount <= 1) return false;
  return true;
}

function release(v: Variant): void {
  for (const p of v.program.prepared) p.release();
  for (const s of v.program.state) s.release();
  for (const s of v.program.temporaries) s.release();
  for (const s of v.extraRefs) s.release();
  for (const s of v.returnedLast) s?.release();
  v.returnedLast.fill(null);
}

function replay(v: Variant, tensors: readonly Tensor[]): unknown {
  const { program } = v;
  for (const { input, check } of v.prechecks) {
    const view = new Tensor(tensors[input].storageFor('compile'), check.shape, check.strides, check.offset);
    try {
      check.check(view);
    } finally {
      view.dispose();
    }
  }
  program.inputSlots.forEach((slot, k) => {
    const buffer = tensors[k].storageFor('compile').buffer;
    for (const [container, key] of slot.locations) container[key] = buffer;
  });
  const made = program.outputSlots.map((slot, i) => {
    let storage = v.returnedLast[i];
    if (storage === null || storage.refCount !== 1) {
      // The caller still holds the last result: it stays theirs, and this call gets a new one.
      storage?.release();
      storage = Storage.alloc(program.backend, slot.size, slot.dtype);
      storage.retain();
      v.returnedLast[i] = storage;
    }
    storage.markModified();
    for (const [container, key] of slot.locations) container[key] = storage.buffer;
    return storage;
  });
  withBackendCalls(program.backend, program.callsByMethod, () => {
    for (const step of program.steps) step();
  });
  for (const k of v.writtenInputs) tensors[k].markModified();
  const outputs = v.outputs.map(
    (o) => new Tensor('fresh' in o ? made[o.fresh] : o.state, o.shape, o.strides, o.offset),
  );
  return fill(v.template, outputs);
}

function fill(template: unknown, outputs: readonly Tensor[]): unknown {
  if (typeof template === 'object' && template !== null && TENSOR_SLOT in template)
    return outputs[(template as { [TENSOR_SLOT]: number })[TENSOR_SLOT]];
  if (Array.isArray(template)) return template.map((t) => fill(t, outputs));
  if (typeof template === 'object' && template !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, t] of Object.entries(template)) out[k] = fill(t, outputs);
    return out;
  }
  return template;
}

/**
 * Compiles `fn`: the first call for each input signature runs it eagerly while recording
 * its backend calls; later calls replay the recording with new inputs, allocating nothing (a
 * returned tensor's buffer is reused once the caller has disposed of it). Works for a whole training step (zeroGrad, forward, loss, backward,
 * optimizer step, running statistics) and for inference.
 *
 * `fn` must be synchronous and must not read tensors on the host (`item`, `data`,
 * `dataSync`): read what the compiled function returns instead. Its tensor arguments are
 * rebound per call; other arguments (numbers, strings, booleans) are part of the signature.
 * Returned tensors do not require grad. JavaScript side effects of `fn` itself run at
 * capture only (as with `jax.jit`); Nabla's own state (optimizer steps, gradients, running
 * statistics, random draws, learning rates) is kept in step on every replay.
 * @example
 * const step = compile((x: Tensor, y: Tensor) => {
 *   opt.zeroGrad();
 *   const loss = lossFn(model.forward(x), y);
 *   loss.backward();
 *   opt.step();
 *   return loss;
 * });
 * for (const [x, y] of batches) console.log(await step(x, y).item());
 */
export function compile<A extends unknown[], R>(
  fn: (...args: A) => R,
  options: CompileOptions = {},
): CompiledFunction<A, R> {
  const variants = new Map<string, Variant[]>();
  let captures = 0;
  let replays = 0;
  let latest: Variant | null = null;
  const compiled = ((...args: A): R => {
    const { key, tensors } = signatureOf(args);
    const list = variants.get(key) ?? [];
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (!guardsHold(v)) continue;
      if (!stateOwned(v)) {
        release(v);
        list.splice(i--, 1);
        continue;
      }
      replays++;
      latest = v;
      return replay(v, tensors) as R;
    }
    const { variant, result } = capture(fn as (...a: unknown[]) => unknown, args, tensors, options);
    captures++;
    list.push(variant);
    variants.set(key, list);
    latest = variant;
    return result as R;
  }) as CompiledFunction<A, R>;
  compiled.dispose = () => {
    for (const list of variants.values()) for (const v of list) release(v);
    variants.clear();
    latest = null;
  };
  Object.defineProperty(compiled, 'stats', {
    get: (): CompileStats => ({
      captures,
      replays,
      kernelCalls: latest?.program.kernelCalls ?? 0,
      temporaryBuffers: latest?.program.temporaries.length ?? 0,
      temporaryBytes: latest?.program.temporaries.reduce((n, s) => n + s.size * 4, 0) ?? 0,
    }),
  });
  return compiled;
}
