/**
 * sequence: classifying multichannel time series shaped `(N, C, L)`. BatchNorm1d on a 3D
 * input normalises each channel over the batch and every time step: the temporal batch-norm
 * case. The model applies the same small network at every time step (a 1x1 convolution
 * written as a Linear on `(N, L, C)`), normalises, and averages over time before the head.
 */
import type { Tensor } from '@nabla/core';
import { BatchNorm1d, Linear, Module, ReLU } from '@nabla/nn';
import { splitDataset } from '../data/dataset.js';
import { makeSequences } from '../data/sequence.js';
import type { ExampleDef } from '../example.js';

/** `(N, C, L)` → BatchNorm1d(C) → per-step Linear(C, H) → BatchNorm1d(H) → ReLU → mean over L → Linear(H, classes). */
export class TemporalNet extends Module {
  readonly inputNorm: BatchNorm1d;
  readonly perStep: Linear;
  readonly norm: BatchNorm1d;
  readonly relu: ReLU;
  readonly head: Linear;

  constructor(channels: number, hidden: number, classes: number) {
    super();
    this.inputNorm = this.registerModule('input_norm', new BatchNorm1d(channels));
    this.perStep = this.registerModule('per_step', new Linear(channels, hidden));
    this.norm = this.registerModule('norm', new BatchNorm1d(hidden));
    this.relu = this.registerModule('relu', new ReLU());
    this.head = this.registerModule('head', new Linear(hidden, classes));
  }

  forward(x: Tensor): Tensor {
    const h = this.inputNorm.forward(x); // (N, C, L): statistics per channel over N and L
    const steps = this.perStep.forward(h.transpose(1, 2)).transpose(1, 2); // (N, H, L)
    const features = this.relu.forward(this.norm.forward(steps));
    return this.head.forward(features.mean(2)); // (N, classes)
  }
}

export const sequence: ExampleDef = {
  name: 'sequence',
  description: 'synthetic (N, C, L) time series through BatchNorm1d: the temporal batch-norm case',
  defaults: {
    example: 'sequence',
    backend: 'auto',
    epochs: 15,
    batchSize: 32,
    seed: 0,
    optimizer: { name: 'adam', lr: 0.01, momentum: 0, weightDecay: 0 },
    schedule: { type: 'cosine', minLr: 0.0005 },
    model: { hidden: 32 },
    data: { samples: 1200, classes: 4, length: 32, noise: 0.1, testFraction: 0.2 },
  },
  prepare(cfg) {
    const { samples, classes, length, noise, testFraction } = cfg.data;
    const all = makeSequences(samples, classes, length, noise, cfg.seed + 1);
    const split = splitDataset(all, Math.round(samples * testFraction), cfg.seed + 2);
    const model = new TemporalNet(all.sampleShape[0], cfg.model.hidden as number, classes);
    return { task: 'classification', split, runs: [{ name: 'temporal', model }] };
  },
};
