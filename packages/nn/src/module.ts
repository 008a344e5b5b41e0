/**
 * `Module`: the base of every layer. It owns its parameters, buffers and children, and
 * walks them recursively in registration order, which is what makes `stateDict()` keys
 * PyTorch's (`'0.weight'`, `'1.running_mean'`, ...).
 */
import { keep, moveTensors, noGrad, type Tensor, tidy } from '@nabla/core';

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true). Shape mismatches are errors either way. */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not match. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** A module's state: parameter and buffer tensors by dotted name. */
export type StateDict = Record<string, Tensor>;

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Why `source` cannot be copied into `target` (not a tensor, disposed, on another backend), or
 * null. Checked for every key before {@link Module.loadStateDict} copies anything.
 */
function sourceProblem(key: string, source: unknown, target: Tensor): string | null {
  const isTensor =
    typeof source === 'object' &&
    source !== null &&
    (source as { __nablaTensor?: boolean }).__nablaTensor === true;
  if (!isTensor) return `expected a Tensor for ${key}, got ${source === null ? 'null' : typeof source}.`;
  const t = source as Tensor;
  if (t.isDisposed) return `the tensor for ${key} was disposed.`;
  if (t.backend !== target.backend) {
    return (
      `backend mismatch for ${key}: the checkpoint's tensor is on '${t.backend}', the model's on ` +
      `'${target.backend}'; move it first with t.to('${target.backend}') (or await t.toAsync(...)).`
    );
  }
  return null;
}

/** Indents every line after the first by two spaces (nested reprs). */
function indent(text: string): string {
  return text.split('\n').join('\n  ');
}

/**
 * Base class of layers. Subclasses register their state with {@link registerParameter},
 * {@link registerBuffer} and {@link registerModule}, and implement {@link forward}.
 *
 * Registered tensors are owned by the module: they are `keep()`-ed so a user's `tidy`
 * never frees them, and {@link dispose} releases them.
 */
export abstract class Module {
  /** True in training mode (the default); see {@link train} and {@link eval}. */
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffersByName = new Map<string, Tensor | null>();
  private readonly persistent = new Set<string>();
  private readonly children_ = new Map<string, Module>();

  /** Computes the module's output. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** The class name shown by {@link toString}. */
  protected get typeName(): string {
    return this.constructor.name;
  }

  /** Extra text inside the parentheses of {@link toString}, e.g. `in_features=8, ...`. */
  protected extraRepr(): string {
    return '';
  }

  /**
   * Registers (or replaces, or with `null` clears) a parameter. The tensor is made a
   * gradient-requiring leaf owned by this module.
   */
  protected registerParameter(name: string, value: Tensor | null): Tensor | null {
    if (value) {
      keep(value);
      if (!value.requiresGrad) value.requiresGrad = true;
    }
    const old = this.params.get(name);
    if (old && old !== value) old.dispose();
    this.params.set(name, value);
    return value;
  }

  /** Registers a buffer: state that is not trained (running statistics, counters). */
  protected registerBuffer(name: string, value: Tensor | null, persistent = true): Tensor | null {
    if (value) keep(value);
    const old = this.buffersByName.get(name);
    if (old && old !== value) old.dispose();
    this.buffersByName.set(name, value);
    if (persistent) this.persistent.add(name);
    else this.persistent.delete(name);
    return value;
  }

  /** Registers a child module under `name`. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    if (!(module instanceof Module)) throw new TypeError(`registerModule('${name}'): expected a Module`);
    this.children_.set(name, module);
    return module;
  }

  /** A registered parameter by name (null when absent or cleared). */
  protected getParameter(name: string): Tensor | null {
    return this.params.get(name) ?? null;
  }

  /** A registered buffer by name (null when absent or cleared). */
  protected getBuffer(name: string): Tensor | null {
    return this.buffersByName.get(name) ?? null;
  }

  /** Sets training mode on this module and every descendant. Returns `this`. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children_.values()) child.train(mode);
    return this;
  }

  /** Evaluation mode: `train(false)`. Returns `this`. */
  eval(): this {
    return this.train(false);
  }

  /** Direct children with their names, in registration order. */
  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this.children_.entries();
  }

  /** Direct children, in registration order. */
  children(): Module[] {
    return [...this.children_.values()];
  }

  /** This module and all descendants with dotted names (`''` for this one), each once. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.children_) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    }
    return out;
  }

  /** This module and all descendants, each once. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Parameters with dotted names, recursively; a tensor shared by two modules appears once. */
  namedParameters(): [string, Tensor][] {
    return this.collect((m) => m.params);
  }

  /** Parameters, recursively, without duplicates: what an optimizer takes. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Buffers with dotted names, recursively, without duplicates. */
  namedBuffers(): [string, Tensor][] {
    return this.collect((m) => m.buffersByName);
  }

  /** Buffers, recursively, without duplicates. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  private collect(pick: (m: Module) => Map<string, Tensor | null>): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of pick(m)) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** Calls `fn` on every descendant (children first) and then on this module, like PyTorch's `apply`. Returns `this`. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children_.values()) child.apply(fn);
    fn(this);
    return this;
  }

  /** The number of parameter elements (each shared tensor once); `onlyTrainable` counts those with `requiresGrad`. */
  numParameters(options: { onlyTrainable?: boolean } = {}): number {
    return this.parameters()
      .filter((p) => !options.onlyTrainable || p.requiresGrad)
      .reduce((n, p) => n + p.size, 0);
  }

  /** Sets `requiresGrad` on every parameter (freezing with `false`), like PyTorch's `requires_grad_`. Returns `this`. */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /**
   * Moves every parameter (with its gradient) and buffer to the started backend `name`, in
   * place, like PyTorch's `module.to(device)`: the tensor objects stay, so an optimizer built
   * on `parameters()` keeps working (move its state too, with `await opt.to(name)`). Every
   * value is read before anything moves: on failure the model is where it was. Asynchronous
   * because WebGPU memory is read asynchronously.
   * @example
   * await initBackend('webgpu');
   * await model.to('webgpu');
   * await opt.to('webgpu');
   * await setBackend('webgpu'); // where new tensors (the batches) are made
   */
  async to(name: string): Promise<this> {
    await moveTensors([...this.parameters(), ...this.buffers()], name);
    return this;
  }

  /** Clears the gradient of every parameter (`.grad = null`). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Parameters and persistent buffers by PyTorch's dotted names, in PyTorch's order (own
   * parameters, own buffers, then each child). The values are the module's own tensors, not
   * copies: they change as the model trains and must not be disposed; `clone()` to snapshot.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    this.fillStateDict(out, '');
    return out;
  }

  private fillStateDict(out: StateDict, prefix: string): void {
    for (const [name, t] of this.params) if (t) out[prefix + name] = t;
    for (const [name, t] of this.buffersByName) if (t && this.persistent.has(name)) out[prefix + name] = t;
    for (const [name, child] of this.children_) child.fillStateDict(out, `${prefix}${name}.`);
  }

  /**
   * Copies values from `stateDict` into this module's tensors, in place. Every check runs
   * before anything is copied: with `strict` (the default) missing and unexpected keys are an
   * error listing them; a shape mismatch, a value that is not a live tensor, and a tensor on
   * another backend are always errors. On error nothing has changed.
   */
  loadStateDict(stateDict: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !(k in own));
    const errors: string[] = [];
    if (strict && missingKeys.length) {
      errors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    }
    if (strict && unexpectedKeys.length) {
      errors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    }
    for (const [key, target] of Object.entries(own)) {
      const source = stateDict[key] as unknown;
      if (source === undefined) continue;
      const problem = sourceProblem(key, source, target);
      if (problem) errors.push(problem);
    }
    for (const [key, target] of Object.entries(own)) {
      const source = stateDict[key];
      if (!source || sourceProblem(key, source, target)) continue;
      if (source.shape.length !== target.shape.length || source.shape.some((d, i) => d !== target.shape[i])) {
        errors.push(
          `size mismatch for ${key}: copying a param with shape ${shapeText(source.shape)} from checkpoint, ` +
            `the shape in current model is ${shapeText(target.shape)}.`,
        );
      }
    }
    if (errors.length) {
      throw new Error(`Error(s) in loading state_dict for ${this.typeName}:\n\t${errors.join('\n\t')}`);
    }
    noGrad(() =>
      tidy(() => {
        for (const [key, target] of Object.entries(own)) {
          const source = stateDict[key];
          if (!source || source === target) continue;
          // A checkpoint may store num_batches_tracked as float, or weights as int: convert.
          const value =
            source.dtype === target.dtype ? source : target.dtype === 'int32' ? source.int() : source.float();
          target.assign(value);
        }
      }),
    );
    return { missingKeys, unexpectedKeys };
  }

  /** Frees every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const t of m.params.values()) t?.dispose();
      for (const t of m.buffersByName.values()) t?.dispose();
    }
  }

  /** PyTorch's repr: `Linear(in_features=8, out_features=16, bias=True)`, children indented. */
  toString(): string {
    const extra = this.extraRepr();
    const lines = extra ? extra.split('\n') : [];
    for (const [name, child] of this.children_) lines.push(`(${name}): ${indent(child.toString())}`);
    if (this.children_.size === 0) return `${this.typeName}(${extra})`;
    return `${this.typeName}(\n  ${lines.map(indent).join('\n  ')}\n)`;
  }
}
