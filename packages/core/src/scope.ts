/**
 * Deterministic memory management: `tidy` scopes, `keep`, and the garbage-collection
 * safety net. JavaScript's collector does not see wasm or GPU memory, so every tensor is
 * disposed explicitly, by a scope, or (as a last resort) when it becomes unreachable.
 */
import { storageTotals } from './storage.js';
import type { Tensor } from './tensor.js';

interface Scope {
  tensors: Set<Tensor>;
}

const scopes: Scope[] = [];
let liveTensors = 0;

/**
 * Called by the Tensor constructor. A tensor born inside a scope is held by it (and so cannot be
 * collected) until the scope ends; the safety net is armed only once no scope holds it.
 */
export function trackTensor(t: Tensor, scoped: boolean): void {
  liveTensors++;
  if (!scoped) return; // an owner disposes it (a node's saved tensor)
  const scope = scopes[scopes.length - 1];
  if (scope) scope.tensors.add(t);
  else t._net();
}

/** Called by `Tensor.dispose`. */
export function untrackTensor(t: Tensor): void {
  liveTensors--;
  const scope = scopes[scopes.length - 1];
  if (scope) scope.tensors.delete(t);
}

/** Number of tensors not yet disposed. */
export function liveTensorCount(): number {
  return liveTensors;
}

/**
 * Removes `t` from every open scope so no `tidy` disposes it; the caller (a module, an
 * optimizer, the user) now owns it and disposes it with `t.dispose()`.
 */
export function keep<T extends Tensor>(t: T): T {
  for (let i = 0; i < scopes.length; i++) scopes[i].tensors.delete(t);
  t._net();
  return t;
}

/**
 * Runs `fn` and disposes every tensor created inside it except those it returns (a tensor,
 * or tensors inside a returned array or plain object) and those passed to {@link keep}.
 * Returned tensors move to the enclosing scope. `fn` must be synchronous: async work would
 * outlive the scope, so a returned promise is an error.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = { tensors: new Set() };
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    scope.tensors.forEach(disposeTensor);
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    scope.tensors.forEach(disposeTensor);
    throw new Error(
      'tidy: the function returned a Promise; tidy scopes must be synchronous (await outside the tidy, or dispose tensors yourself)',
    );
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, 0);
  const parent = scopes[scopes.length - 1];
  // Set.forEach, not for...of: no iterator object per tensor before the engine optimizes tidy
  scope.tensors.forEach((t) => {
    if (!survivors.has(t)) t.dispose();
    else if (parent) parent.tensors.add(t);
    else t._net();
  });
  return result;
}

const disposeTensor = (t: Tensor): void => t.dispose();

function collectTensors(value: unknown, out: Set<Tensor>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (isTensorLike(value)) {
    out.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) collectTensors(value[i], out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    const values = value instanceof Map ? value.values() : Object.values(value);
    for (const v of values) collectTensors(v, out, depth + 1);
  }
}

function isTensorLike(v: object): boolean {
  return (v as { __nablaTensor?: boolean }).__nablaTensor === true;
}

/**
 * The safety net: releases the storage of tensors that became unreachable without `dispose()`.
 * The held value is the storage itself, not a closure over it: registering (and unregistering
 * on `dispose`) happens for every tensor, and a closure per tensor doubled its cost.
 */
export const collectedTensors = new FinalizationRegistry<{ release(): void }>((storage) => {
  liveTensors--;
  const held = storageTotals();
  storage.release();
  const left = storageTotals();
  collected.tensors++;
  collected.bytes += held.bytes - left.bytes;
  collected.buffers += held.buffers - left.buffers;
});

/** What the safety net has released since the program started (see {@link collectedCount}). */
const collected = { tensors: 0, bytes: 0, buffers: 0 };

/**
 * Tensors the safety net released because they became unreachable without `dispose()`, and the
 * bytes and buffers that freed (releasing a view frees nothing while another tensor shares its
 * storage).
 */
export function collectedCount(): { tensors: number; bytes: number; buffers: number } {
  return { ...collected };
}
