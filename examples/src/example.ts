/** What an example provides to the trainer. */
import type { Tensor } from '@nabla/core';
import type { Module } from '@nabla/nn';
import type { Split } from './data/dataset.js';
import type { RunConfig } from './options.js';

/** A model to train; most examples have one, `batchnorm` has two. */
export interface TrainRun {
  name: string;
  model: Module;
}

/** Passed to an example's picture writer after training. */
export interface PictureContext {
  outDir: string;
  runs: TrainRun[];
  split: Split;
  /** Writes `<name>.svg` and `<name>.png` into the output directory; returns their paths. */
  save(name: string, svg: string): Promise<string[]>;
}

/** An example's data and models for a config. */
export interface Prepared {
  task: 'classification' | 'regression';
  split: Split;
  runs: TrainRun[];
  /** The loss (default: CrossEntropyLoss for classification, MSELoss for regression). */
  lossFn?: Module;
  /** Correct predictions in a batch as a scalar (default: `argmax(1) == y`, for class indices). */
  correct?: (pred: Tensor, y: Tensor) => Tensor;
  /** Runs after `backward()` and before the optimizer step (gradient clipping). */
  beforeStep?: (model: Module) => void;
  /** Extra pictures (decision boundary, fit plot), written after training. */
  pictures?: (ctx: PictureContext) => Promise<string[]>;
  /** Frees the example's own tensors (a loss's `posWeight`: losses leave those to their owner). */
  dispose?: () => void;
}

/** One example: its name, its defaults (mirrored by `configs/<name>.json`) and its setup. */
export interface ExampleDef {
  name: string;
  description: string;
  defaults: RunConfig;
  /** Builds data and models; called after `manualSeed(cfg.seed)`, so initialisation is seeded. */
  prepare(cfg: RunConfig): Prepared;
}
