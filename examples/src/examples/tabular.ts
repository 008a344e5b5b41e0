/**
 * tabular: binary classification of spreadsheet-like rows (unscaled columns on scales from 0.5 to 30)
 * with BCEWithLogitsLoss (`posWeight` balancing the minority class), LayerNorm or BatchNorm1d
 * chosen by `model.layerNorm`, GELU, AdamW under OneCycleLR (stepped every batch) and gradient
 * clipping to `model.clipGradNorm`. The model outputs one logit per row; a row is predicted
 * positive when its logit is above 0.
 */
import { tensor } from '@nabla/core';
import { BatchNorm1d, BCEWithLogitsLoss, clipGradNorm, GELU, LayerNorm, Linear, Sequential } from '@nabla/nn';
import { splitDataset } from '../data/dataset.js';
import { makeTabular, TABULAR_FEATURES } from '../data/tabular.js';
import type { ExampleDef } from '../example.js';

export const tabular: ExampleDef = {
  name: 'tabular',
  description:
    'binary classification of tabular rows: BCEWithLogitsLoss, LayerNorm/BatchNorm1d, OneCycleLR, clipping',
  defaults: {
    example: 'tabular',
    backend: 'auto',
    epochs: 12,
    batchSize: 64,
    seed: 0,
    optimizer: { name: 'adamw', lr: 0.01, momentum: 0, weightDecay: 0.01 },
    schedule: { type: 'onecycle', pctStart: 0.3 },
    model: { hidden: [64, 64], layerNorm: true, clipGradNorm: 1 },
    data: { samples: 3000, positiveFraction: 0.25, testFraction: 0.2 },
  },
  prepare(cfg) {
    const all = makeTabular(cfg.data.samples, cfg.data.positiveFraction, cfg.seed + 1);
    const split = splitDataset(all, Math.round(all.n * cfg.data.testFraction), cfg.seed + 2);
    const layers = [];
    let width = TABULAR_FEATURES;
    for (const h of cfg.model.hidden as number[]) {
      layers.push(
        new Linear(width, h),
        cfg.model.layerNorm ? new LayerNorm(h) : new BatchNorm1d(h),
        new GELU(),
      );
      width = h;
    }
    layers.push(new Linear(width, 1));
    const model = new Sequential(...layers);
    let positives = 0;
    for (const v of split.train.y) positives += v;
    const posWeight = tensor([(split.train.n - positives) / Math.max(1, positives)]);
    const maxNorm = cfg.model.clipGradNorm as number;
    return {
      task: 'classification',
      split,
      runs: [{ name: 'mlp', model }],
      lossFn: new BCEWithLogitsLoss({ posWeight }),
      correct: (logits, y) => logits.gt(0).float().eq(y).sum(),
      beforeStep: maxNorm > 0 ? (m) => void clipGradNorm(m.parameters(), maxNorm) : undefined,
      dispose: () => posWeight.dispose(),
    };
  },
};
