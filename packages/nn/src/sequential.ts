/** `Sequential`: a chain of modules named '0', '1', .... */
import type { Tensor } from '@nabla/core';
import { ReLU } from './activation.js';
import { BatchNorm } from './batch-norm.js';
import { Module } from './module.js';

/**
 * True when `a` is a BatchNorm with the stock forward and `b` is exactly a `ReLU` (not a
 * subclass, forward not replaced): then `b.forward(a.forward(x))` is `a.forwardRelu(x)`.
 */
function fusesWithRelu(a: Module, b: Module | undefined): a is BatchNorm {
  return (
    a instanceof BatchNorm &&
    a.forward === BatchNorm.prototype.forward &&
    b !== undefined &&
    Object.getPrototypeOf(b) === ReLU.prototype &&
    b.forward === ReLU.prototype.forward
  );
}

/**
 * Applies its modules in order. Children are named `'0'`, `'1'`, ... (so state-dict keys
 * read `'0.weight'`), and are reachable as `seq[i]` or `seq.at(i)` (negative counts from the end).
 *
 * A BatchNorm followed directly by a `ReLU` runs as one call, with the ReLU fused into the
 * batch-norm kernels when the layer uses batch statistics; the result, the gradients and the
 * running statistics are the same as running the two modules one after the other.
 */
export class Sequential extends Module {
  readonly [index: number]: Module;
  private readonly layers: Module[] = [];

  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds a module at the end, named by its position. Returns `this`. */
  append(module: Module): this {
    const index = this.layers.length;
    this.registerModule(String(index), module);
    this.layers.push(module);
    Object.defineProperty(this, index, {
      value: module,
      enumerable: true,
      configurable: false,
      writable: false,
    });
    return this;
  }

  /** Number of modules. */
  get length(): number {
    return this.layers.length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): Module {
    const i = index < 0 ? this.layers.length + index : index;
    const m = this.layers[i];
    if (!Number.isInteger(i) || !m)
      throw new RangeError(`index ${index} is out of range for Sequential of length ${this.layers.length}`);
    return m;
  }

  /** Iterates over the layers in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.layers[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let y = x;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const m = layers[i];
      if (fusesWithRelu(m, layers[i + 1])) {
        y = m.forwardRelu(y);
        i++;
      } else {
        y = m.forward(y);
      }
    }
    return y;
  }
}
