/**
 * batchnorm: the same MLP trained twice at a high learning rate, with and without
 * BatchNorm1d after every hidden Linear, on an MNIST subset (SGD, lr 0.1 with momentum 0.9:
 * an effective step of 1.0). Both loss curves land on one chart (`loss.svg`): the normalised
 * network gets far in the first epoch while the plain one is still finding its scale, the
 * faster training Ioffe and Szegedy (2015) report. Raise the learning rate further and the
 * plain network diverges (NaN) while the normalised one keeps training.
 */
import { manualSeed } from '@nabla/core';
import { splitDataset } from '../data/dataset.js';
import { loadMnist } from '../data/mnist.js';
import type { ExampleDef } from '../example.js';
import { mlp } from '../models.js';

export const batchnorm: ExampleDef = {
  name: 'batchnorm',
  description:
    'the same MLP with and without BatchNorm1d at a high learning rate, both loss curves on one chart',
  defaults: {
    example: 'batchnorm',
    backend: 'auto',
    epochs: 6,
    batchSize: 64,
    seed: 0,
    optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0 },
    schedule: { type: 'constant' },
    model: { hidden: [128, 128, 128] },
    data: { maxPerClass: 300, testCount: 500 },
  },
  prepare(cfg) {
    const all = loadMnist(cfg.data.maxPerClass);
    const split = splitDataset(all, Math.min(cfg.data.testCount, Math.floor(all.n / 2)), cfg.seed + 2);
    const hidden = cfg.model.hidden as number[];
    const withBn = mlp(784, hidden, 10, true);
    // Same seed for both, so the Linear layers start from the same weights.
    manualSeed(cfg.seed);
    const plain = mlp(784, hidden, 10, false);
    return {
      task: 'classification',
      split,
      runs: [
        { name: 'batchnorm', model: withBn },
        { name: 'plain', model: plain },
      ],
    };
  },
};
