/**
 * spirals: three interleaved 2D spirals, classified by an MLP with BatchNorm1d. Writes the
 * decision boundary (the predicted class over the plane, with the data on top).
 */
import { noGrad, tensor, tidy } from '@nabla/core';
import { splitDataset } from '../data/dataset.js';
import { makeSpirals } from '../data/spirals.js';
import type { ExampleDef } from '../example.js';
import { mlp } from '../models.js';
import { boundarySvg } from '../plot/boundary.js';

const GRID = 160;
const EXTENT = 1.25;

export const spirals: ExampleDef = {
  name: 'spirals',
  description: 'three interleaved 2D spirals, MLP with BatchNorm1d; writes the decision boundary',
  defaults: {
    example: 'spirals',
    backend: 'auto',
    epochs: 30,
    batchSize: 64,
    seed: 0,
    optimizer: { name: 'adam', lr: 0.02, momentum: 0, weightDecay: 0 },
    schedule: { type: 'cosine', minLr: 0.0005 },
    model: { hidden: [64, 64], batchNorm: true },
    data: { perClass: 300, classes: 3, turns: 1, noise: 0.15, testFraction: 0.2 },
  },
  prepare(cfg) {
    const { perClass, classes, noise, turns, testFraction } = cfg.data;
    const all = makeSpirals(perClass, classes, noise, cfg.seed + 1, turns);
    const split = splitDataset(all, Math.round(all.n * testFraction), cfg.seed + 2);
    const model = mlp(2, cfg.model.hidden as number[], classes, cfg.model.batchNorm as boolean);
    return {
      task: 'classification',
      split,
      runs: [{ name: 'mlp', model }],
      async pictures({ runs, split, save }) {
        // Predicted class at the centre of every grid cell, row 0 at the top of the image.
        const cells = new Float32Array(GRID * GRID * 2);
        for (let r = 0; r < GRID; r++) {
          for (let c = 0; c < GRID; c++) {
            cells[(r * GRID + c) * 2] = -EXTENT + ((c + 0.5) / GRID) * 2 * EXTENT;
            cells[(r * GRID + c) * 2 + 1] = EXTENT - ((r + 0.5) / GRID) * 2 * EXTENT;
          }
        }
        const model = runs[0].model.eval();
        const pred = noGrad(() =>
          tidy(() => model.forward(tensor(cells, { shape: [GRID * GRID, 2] })).argmax(1)),
        );
        const grid = new Int32Array(await pred.data());
        pred.dispose();
        const points = [];
        for (const ds of [split.train, split.test]) {
          for (let i = 0; i < ds.n; i++) points.push({ x: ds.x[2 * i], y: ds.x[2 * i + 1], label: ds.y[i] });
        }
        const spec = {
          grid,
          gridWidth: GRID,
          gridHeight: GRID,
          xRange: [-EXTENT, EXTENT] as [number, number],
          yRange: [-EXTENT, EXTENT] as [number, number],
          points,
        };
        return save('decision-boundary', boundarySvg(spec, 'spirals: decision boundary'));
      },
    };
  },
};
