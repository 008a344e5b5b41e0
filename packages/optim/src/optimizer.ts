/**
 * `Optimizer`: parameter groups, per-parameter state, `zeroGrad`, a settable learning rate
 * and `stateDict`/`loadStateDict`. Subclasses implement {@link Optimizer.step} with their
 * update rule (`rules/`): one in-place pointwise program per parameter.
 */
import { keep, moveTensors, type Tensor, zerosLike } from '@nabla/core';
import { checkParametersAlive, type StateSchema, validateOptimizerStateDict } from './validate.js';

/** Hyper-parameters every optimizer has. */
export interface BaseOptions {
  lr: number;
}

/** A group of parameters sharing hyper-parameters. */
export type ParamGroup<O> = O & { params: Tensor[] };

/** What the constructor accepts: parameters, or groups with optional per-group overrides. */
export type ParamsInput<O> = Iterable<Tensor> | (Partial<O> & { params: Iterable<Tensor> })[];

/** Per-parameter state: tensors (owned by the optimizer) and numbers such as the step count. */
export type ParamState = Record<string, Tensor | number>;

/**
 * A serialisable snapshot: state keyed by the parameter's position across all groups (as
 * in PyTorch), and the groups' hyper-parameters with `params` as those positions. Tensors
 * are the optimizer's own (not copies).
 */
export interface OptimizerStateDict<O> {
  state: Record<number, ParamState>;
  paramGroups: (O & { params: number[] })[];
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && (v as { __nablaTensor?: boolean }).__nablaTensor === true;
}

/**
 * Base class of optimizers (PyTorch's `torch.optim.Optimizer`). It owns its state tensors:
 * they survive a user's `tidy`, and {@link Optimizer.dispose} frees them.
 */
export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** Default hyper-parameters, filled into groups that do not override them. */
  readonly defaults: O;
  /** The parameter groups; change a group's hyper-parameters between steps freely. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created lazily on the first step that sees a gradient. */
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsInput<O>, defaults: O) {
    this.defaults = { ...defaults };
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new Error('optimizer got an empty parameter list');
    if (isTensor(list[0]))
      this.addParamGroup({ params: list as Tensor[] } as Partial<O> & { params: Tensor[] });
    else for (const g of list as (Partial<O> & { params: Iterable<Tensor> })[]) this.addParamGroup(g);
  }

  /** Adds a group; missing hyper-parameters come from the defaults. A parameter may be in one group only. */
  addParamGroup(group: Partial<O> & { params: Iterable<Tensor> }): void {
    const params = [...group.params];
    for (const p of params) {
      if (!isTensor(p)) throw new TypeError('optimizer can only optimize Tensors');
      if (p.dtype !== 'float32')
        throw new TypeError(`optimizer can only optimize float32 tensors, got ${p.dtype}`);
      if (p.isLeaf === false) throw new Error("can't optimize a non-leaf Tensor");
    }
    if (new Set(params).size !== params.length) {
      console.warn('optimizer contains a parameter group with duplicate parameters; they are used once');
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => seen.has(p)))
      throw new Error('some parameters appear in more than one parameter group');
    const full = { ...this.defaults, ...group, params: [...new Set(params)] } as ParamGroup<O>;
    this.validate(full);
    this.paramGroups.push(full);
  }

  /** Throws PyTorch's error for an invalid hyper-parameter. */
  protected abstract validate(options: O): void;

  /** What this optimizer keeps per parameter (checked by {@link Optimizer.loadStateDict}). */
  protected abstract readonly stateSchema: StateSchema;

  /** One update of every parameter that has a gradient. */
  abstract step(): void;

  /** The learning rate of the first group. Setting it sets every group's. */
  get lr(): number {
    return this.paramGroups[0].lr;
  }

  set lr(value: number) {
    if (!(value >= 0)) throw new Error(`Invalid learning rate: ${value}`);
    for (const g of this.paramGroups) g.lr = value;
  }

  /** Sets every parameter's `.grad` to null (freeing it). */
  zeroGrad(): void {
    const groups = this.paramGroups;
    for (let i = 0; i < groups.length; i++) {
      const params = groups[i].params;
      for (let j = 0; j < params.length; j++) params[j].zeroGrad();
    }
  }

  /** The state of `param`, created with `init` on first use. Tensors made by `init` are owned here. */
  protected stateFor(param: Tensor, init: () => ParamState): ParamState {
    let s = this.state.get(param);
    if (!s) {
      s = init();
      for (const v of Object.values(s)) if (isTensor(v)) keep(v);
      this.state.set(param, s);
    }
    return s;
  }

  /** A zero tensor shaped like `param`, for state. */
  protected zerosLike(param: Tensor): Tensor {
    return keep(zerosLike(param));
  }

  /**
   * The group's parameters that have a gradient (`p.grad` is set on each). An array, not a
   * generator: `step()` runs on every training step, long before the engine optimizes it.
   */
  protected paramsWithGrads(group: ParamGroup<O>): Tensor[] {
    // Checked once per step (at its first group), before any parameter is written.
    if (group === this.paramGroups[0]) checkParametersAlive(this.paramGroups);
    const out: Tensor[] = [];
    const params = group.params;
    for (let i = 0; i < params.length; i++) if (params[i].grad) out.push(params[i]);
    return out;
  }

  /** A snapshot of hyper-parameters and state; see {@link OptimizerStateDict}. */
  stateDict(): OptimizerStateDict<O> {
    // Positions run across groups; a parameter belongs to one group only.
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...rest } = g;
      const ids = params.map((p) => {
        index.set(p, index.size);
        return index.size - 1;
      });
      return { ...(rest as unknown as O), params: ids };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, paramGroups };
  }

  /**
   * Restores hyper-parameters and state saved by {@link Optimizer.stateDict} (from an optimizer of
   * the same type over parameters of the same shapes, in the same order). State tensors are
   * copied. Every check (the constructor's on each group, the optimizer type, parameter counts,
   * each state entry's kind, shape, dtype and backend) runs before anything changes.
   */
  loadStateDict(stateDict: OptimizerStateDict<O>): void {
    const byIndex = validateOptimizerStateDict(
      this,
      stateDict as unknown as Parameters<typeof validateOptimizerStateDict>[1],
      this.stateSchema,
      (o: O) => this.validate(o),
    );
    const groups = stateDict.paramGroups;
    // All checks passed: replace hyper-parameters and state.
    groups.forEach((g, i) => {
      const { params: _ids, ...rest } = g;
      Object.assign(this.paramGroups[i], rest);
    });
    // Copy first: the dict may hold this optimizer's own tensors (opt.loadStateDict(opt.stateDict())).
    const copies = Object.entries(stateDict.state).map(([id, s]) => {
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) copy[k] = isTensor(v) ? keep(v.clone()) : v;
      return [byIndex.get(Number(id))!, copy] as const;
    });
    this.disposeState();
    for (const [p, copy] of copies) this.state.set(p, copy);
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (isTensor(v)) v.dispose();
    this.state.clear();
  }

  /**
   * Moves the optimizer's state tensors (momentum buffers, Adam's moments) to the started
   * backend `name`, in place; pair it with `await model.to(name)`, which moves the parameters.
   * Every value is read before anything moves: on failure the state is where it was.
   */
  async to(name: string): Promise<this> {
    const state = [...this.state.values()].flatMap((s) => Object.values(s).filter(isTensor));
    await moveTensors(state, name);
    return this;
  }

  /** Frees the optimizer's state tensors (not the parameters). */
  dispose(): void {
    this.disposeState();
  }
}
