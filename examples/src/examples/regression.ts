/** regression: a noisy 1D function fitted by an MLP with MSELoss; plots the data and the fit. */
import { noGrad, tensor, tidy } from '@nabla/core';
import { splitDataset } from '../data/dataset.js';
import { makeRegression, targetFunction } from '../data/regression.js';
import type { ExampleDef } from '../example.js';
import { mlp } from '../models.js';
import { chartSvg } from '../plot/chart.js';

export const regression: ExampleDef = {
  name: 'regression',
  description: 'a noisy 1D function fitted with MSELoss; plots the fit',
  defaults: {
    example: 'regression',
    backend: 'auto',
    epochs: 40,
    batchSize: 32,
    seed: 0,
    optimizer: { name: 'adam', lr: 0.01, momentum: 0, weightDecay: 0 },
    schedule: { type: 'step', stepSize: 15, gamma: 0.3 },
    model: { hidden: [64, 64], batchNorm: false },
    data: { samples: 800, noise: 0.2, testFraction: 0.2 },
  },
  prepare(cfg) {
    const all = makeRegression(cfg.data.samples, cfg.data.noise, cfg.seed + 1);
    const split = splitDataset(all, Math.round(all.n * cfg.data.testFraction), cfg.seed + 2);
    const model = mlp(1, cfg.model.hidden as number[], 1, cfg.model.batchNorm as boolean);
    return {
      task: 'regression',
      split,
      runs: [{ name: 'mlp', model }],
      async pictures({ runs, split, save }) {
        const xs = Float32Array.from({ length: 300 }, (_, i) => -3 + (6 * i) / 299);
        const model = runs[0].model.eval();
        const pred = noGrad(() => tidy(() => model.forward(tensor(xs, { shape: [xs.length, 1] }))));
        const ys = Array.from((await pred.data()) as Float32Array);
        pred.dispose();
        const spec = {
          title: 'regression: fit',
          xLabel: 'x',
          yLabel: 'y',
          series: [
            {
              name: 'train data',
              x: Array.from(split.train.x),
              y: Array.from(split.train.y),
              style: 'points' as const,
              color: '#9ecae1',
            },
            {
              name: 'test data',
              x: Array.from(split.test.x),
              y: Array.from(split.test.y),
              style: 'points' as const,
              color: '#fdae6b',
            },
            { name: 'true function', x: Array.from(xs), y: Array.from(xs, targetFunction), color: '#555555' },
            { name: 'model', x: Array.from(xs), y: ys, color: '#d62728' },
          ],
        };
        return save('fit', chartSvg(spec));
      },
    };
  },
};
