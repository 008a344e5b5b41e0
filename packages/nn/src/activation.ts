/** Activation modules. */
import type { Tensor } from '@nabla/core';
import { relu } from './functional.js';
import { Module } from './module.js';

/** `max(x, 0)` elementwise; the gradient at 0 is 0, as in PyTorch. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}
