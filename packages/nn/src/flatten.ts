/** `Flatten`: merges a range of dimensions. */
import type { Tensor } from '@nabla/core';
import { flatten } from './functional.js';
import { Module } from './module.js';

/** Flattens dims `startDim..endDim` (default 1..-1: everything but the batch dim). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  protected override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
