/**
 * The checks an optimizer runs before it changes anything: on a state dict before
 * `loadStateDict` replaces hyper-parameters and state (the constructor's checks, the optimizer's
 * type, parameter counts, every state entry), and on its parameters before `step()` writes any.
 * Plain functions, so every optimizer (and each update rule) calls the same ones.
 */
import type { Tensor } from '@nabla/core';

/** What an optimizer keeps per parameter: a tensor shaped like it, or a count such as Adam's `step`. */
export type StateSchema = Record<string, 'tensor' | 'optional tensor' | 'count'>;

/** The parts of an optimizer the checks read. */
export interface ValidatedOptimizer<O> {
  readonly constructor: { name: string };
  readonly defaults: O;
  readonly paramGroups: readonly (O & { params: Tensor[] })[];
}

/** The state dict shape `loadStateDict` takes (see `OptimizerStateDict`). */
export interface LoadableStateDict {
  state: Record<number, Record<string, unknown>>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const isTensor = (v: unknown): v is Tensor =>
  typeof v === 'object' && v !== null && (v as { __nablaTensor?: boolean }).__nablaTensor === true;

/**
 * Throws unless `stateDict` can be loaded into `optimizer` whole: the same group and parameter
 * counts, hyper-parameters of this optimizer's type passing `validate` (the constructor's
 * checks), and per-parameter state matching `schema` (tensors alive, float32, of the
 * parameter's shape and backend; counts non-negative integers). Returns the parameter each
 * state position refers to.
 */
export function validateOptimizerStateDict<O>(
  optimizer: ValidatedOptimizer<O>,
  stateDict: LoadableStateDict,
  schema: StateSchema,
  validate: (options: O) => void,
): Map<number, Tensor> {
  const type = optimizer.constructor.name;
  if (typeof stateDict !== 'object' || stateDict === null || !Array.isArray(stateDict.paramGroups))
    throw new TypeError(`${type}.loadStateDict: expected { state, paramGroups }, as stateDict() returns`);
  const groups = stateDict.paramGroups;
  if (groups.length !== optimizer.paramGroups.length) {
    throw new Error('loaded state dict has a different number of parameter groups');
  }
  const own = Object.keys(optimizer.defaults as object).sort();
  groups.forEach((g, i) => {
    if (!Array.isArray(g.params) || g.params.length !== optimizer.paramGroups[i].params.length) {
      throw new Error(
        "loaded state dict contains a parameter group that doesn't match the size of optimizer's group",
      );
    }
    // Every hyper-parameter of this optimizer must be there (extra keys, such as a scheduler's
    // initial learning rate, are kept as they are).
    const missing = own.filter((k) => !(k in g));
    if (missing.length) {
      const theirs = Object.keys(g)
        .filter((k) => k !== 'params')
        .sort();
      throw new Error(
        `loaded state dict is not for ${type}: its parameter groups lack ${missing.join(', ')} ` +
          `(they have ${theirs.join(', ')})`,
      );
    }
    validate({ ...optimizer.defaults, ...g } as O);
  });
  const byIndex = new Map<number, Tensor>();
  for (const [i, g] of groups.entries()) {
    for (const [j, id] of g.params.entries()) byIndex.set(id, optimizer.paramGroups[i].params[j]);
  }
  const keys = Object.keys(schema);
  for (const [id, s] of Object.entries(stateDict.state ?? {})) {
    const p = byIndex.get(Number(id));
    if (!p) throw new Error(`loaded state dict has state for parameter ${id}, which no group lists`);
    for (const k of Object.keys(s)) {
      if (!(k in schema))
        throw new Error(
          `loaded state dict is not for ${type}: parameter ${id} has state '${k}'; ${type} keeps ${keys.join(', ')}`,
        );
    }
    for (const [k, kind] of Object.entries(schema)) {
      const v = s[k];
      if (v === undefined && kind === 'optional tensor') continue;
      if (v === undefined) throw new Error(`loaded state dict lacks state '${k}' of parameter ${id}`);
      if (kind === 'count') {
        if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0))
          throw new Error(
            `loaded state '${k}' of parameter ${id} must be a non-negative integer, got ${String(v)}`,
          );
        continue;
      }
      if (!isTensor(v)) throw new TypeError(`loaded state '${k}' of parameter ${id} must be a Tensor`);
      if (v.isDisposed) throw new Error(`loaded state '${k}' of parameter ${id} was disposed`);
      if (v.shape.length !== p.shape.length || v.shape.some((d, j) => d !== p.shape[j])) {
        throw new Error(
          `loaded state '${k}' of parameter ${id} has shape ${shapeText(v.shape)}, the parameter has ${shapeText(p.shape)}`,
        );
      }
      if (v.dtype !== p.dtype)
        throw new Error(`loaded state '${k}' of parameter ${id} is ${v.dtype}, the parameter ${p.dtype}`);
      if (!p.isDisposed && v.backend !== p.backend) {
        throw new Error(
          `loaded state '${k}' of parameter ${id} is on backend '${v.backend}', the parameter on '${p.backend}'; move it with t.to('${p.backend}')`,
        );
      }
    }
  }
  return byIndex;
}

/** Throws when a parameter was disposed: `step()` must not skip it silently or write freed memory. */
export function checkParametersAlive(paramGroups: readonly { params: readonly Tensor[] }[]): void {
  for (let i = 0; i < paramGroups.length; i++) {
    const params = paramGroups[i].params;
    for (let j = 0; j < params.length; j++) {
      const p = params[j];
      if (p.isDisposed)
        throw new Error(
          `step: parameter ${j} of group ${i} (shape ${shapeText(p.shape)}) was disposed; ` +
            'an optimizer cannot update freed memory (dispose the optimizer with its model, or build a new one)',
        );
    }
  }
}
