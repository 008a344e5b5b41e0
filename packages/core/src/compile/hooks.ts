/**
 * How library code tells a capture (see `compile.ts`) what a recording of backend calls
 * cannot see: host-side state changes that must happen again on every replay, per-call
 * numbers that must be re-read, random data that must be drawn again, and values whose
 * change needs a new capture. Outside a capture every hook is one null check.
 */
import type { TypedArray } from '../backend.js';
import type { Tensor } from '../tensor.js';

/** A per-call number: a value, or a function read again on every replay (a learning rate, a step count). */
export type ScalarArg = number | (() => number);

/** What a capture in progress listens to. @internal */
export interface CaptureSink {
  /** A host-side change made now, to be made again at this point of every replay. */
  effect(run: () => void): void;
  /** Functions giving the per-call scalars of the next kernel call (null: a constant). */
  dynamicScalars(thunks: readonly ((() => number) | null)[]): void;
  /** A function drawing the data of the next `write` again (random draws). */
  dynamicData(draw: () => TypedArray): void;
  /** A value this capture depends on; a replay with another value captures anew. */
  guard(what: string, read: () => unknown, value: unknown): void;
  /** True for a buffer allocated during this capture. */
  madeHere(buffer: object): boolean;
  /** A storage whose holder the replay itself re-establishes (a gradient handed to a leaf): no staleness check. */
  rehanded(storage: object): void;
  /** Leaf tensors whose gradient the captured call set to null (so it cannot accumulate). */
  readonly zeroedLeaves: Set<object>;
  /**
   * A host-side check of `tensor` (class indices in range) that each replay must run again on
   * its own input, before any kernel. `tensor` must be a view of an argument of the call.
   */
  precheck(tensor: Tensor, check: (t: Tensor) => void): void;
  /** A host read inside the captured function: always an error. */
  hostRead(op: string): never;
}

let sink: CaptureSink | null = null;

/** @internal the capture in progress, if any. */
export function activeCapture(): CaptureSink | null {
  return sink;
}

/** @internal installs (or clears) the capture in progress; returns the previous one. */
export function setActiveCapture(next: CaptureSink | null): CaptureSink | null {
  const previous = sink;
  sink = next;
  return previous;
}

/** True while `compile` records a call. */
export function isCapturing(): boolean {
  return sink !== null;
}

/**
 * Runs a host-side state change (an optimizer's step count, a module's counter, a
 * gradient handed to a parameter) now and, when a compiled step is being captured, again
 * at the same point of every replay. Library code that keeps state in JavaScript uses it so
 * compiled and eager steps stay identical.
 */
export function hostEffect(run: () => void): void {
  run();
  sink?.effect(run);
}

/**
 * Reads a value that decides what a step computes (a module's training flag). A compiled
 * function captures again when the value differs on a later call, instead of replaying a
 * recording made under the old value.
 */
export function guardValue<T>(what: string, read: () => T): T {
  const value = read();
  sink?.guard(what, read, value);
  return value;
}

/** Evaluates per-call scalars, telling a capture in progress which ones it must re-read. @internal */
export function resolveScalars(scalars: readonly ScalarArg[]): number[] {
  const values = new Array<number>(scalars.length);
  let dynamic = false;
  for (let i = 0; i < scalars.length; i++) {
    const s = scalars[i];
    if (typeof s === 'function') {
      values[i] = s();
      dynamic = true;
    } else values[i] = s;
  }
  if (dynamic && sink) sink.dynamicScalars(scalars.map((s) => (typeof s === 'function' ? s : null)));
  return values;
}

/** Throws the capture's error for a host read (`item`, `data`, `dataSync`) inside a captured function. @internal */
export function checkHostRead(op: string): void {
  sink?.hostRead(op);
}
