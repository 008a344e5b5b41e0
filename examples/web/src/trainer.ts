/**
 * The training loop of the playground. It yields to the event loop after every step, so the
 * page keeps painting and handling input while it trains, and reports progress through
 * callbacks that the UI turns into the chart, the boundary and the digit samples.
 */
import {
  type CompiledFunction,
  compile,
  Generator,
  getBackend,
  manualSeed,
  noGrad,
  setBackend,
  softmaxCrossEntropy,
  type Tensor,
  tensor,
  tidy,
} from '@nabla/core';
import { BatchNorm1d, Linear, type Module, ReLU, Sequential } from '@nabla/nn';
import { Adam } from '@nabla/optim';
import { type Dataset, permutation, type Split } from './data.js';

/** What the user picked. */
export interface TrainConfig {
  backend: string;
  batchNorm: boolean;
  lr: number;
  batchSize: number;
  epochs: number;
  hidden: number[];
  seed: number;
  /** Compile the training step (capture once, replay after); false runs it op by op. Default true. */
  compiled?: boolean;
}

/** One finished epoch. */
export interface EpochStats {
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Training samples per second over the epoch (forward, backward, update and the loss readback). */
  samplesPerSec: number;
  /** Milliseconds the end-of-epoch evaluation took. */
  evalMs: number;
  /** Predicted classes of the {@link Trainer} probe rows (boundary grid cells, sample digits). */
  probe: Int32Array;
}

/** `features → [Linear → (BatchNorm1d) → ReLU]* → Linear → classes`. */
export function buildModel(
  features: number,
  hidden: number[],
  classes: number,
  batchNorm: boolean,
): Sequential {
  const layers: Module[] = [];
  let width = features;
  for (const h of hidden) {
    layers.push(new Linear(width, h));
    if (batchNorm) layers.push(new BatchNorm1d(h));
    layers.push(new ReLU());
    width = h;
  }
  layers.push(new Linear(width, classes));
  return new Sequential(...layers);
}

let lastTimerYield = 0;

/**
 * Gives the browser a turn between steps. Every step ends its task with a MessageChannel
 * round trip (not clamped to 4 ms like nested `setTimeout`), which lets input and rendering
 * in; at least every 16 ms it waits for a `setTimeout` instead, because Chrome runs posted
 * messages (and `scheduler.yield` continuations) ahead of timers, which a loop of those alone
 * would starve.
 */
export function yieldToBrowser(): Promise<void> {
  const now = performance.now();
  if (now - lastTimerYield > 16) {
    return new Promise((resolve) =>
      setTimeout(() => {
        lastTimerYield = performance.now();
        resolve();
      }, 0),
    );
  }
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

/**
 * Predicted classes of every row of `x` (`[n, features]`), in eval mode. On a backend that
 * computes synchronously (cpu, wasm) rows go through in chunks of 512 with a yield after
 * each, so the page is never blocked for long; WebGPU only queues work, so it takes big
 * chunks (fewer dispatches). All chunks are read back at the end, so WebGPU waits once.
 */
export async function predict(
  model: Module,
  x: Float32Array,
  features: number,
  chunk = getBackend().capabilities.readSync ? 512 : 8192,
): Promise<Int32Array> {
  const n = x.length / features;
  const parts: Tensor[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const rowsX = x.subarray(start * features, (start + rows) * features);
      parts.push(
        noGrad(() => tidy(() => model.forward(tensor(rowsX, { shape: [rows, features] })).argmax(1))),
      );
      await yieldToBrowser();
    }
    const out = new Int32Array(n);
    const data = await Promise.all(parts.map((p) => p.data()));
    data.forEach((d, i) => {
      out.set(d as Int32Array, i * chunk);
    });
    return out;
  } finally {
    for (const p of parts) p.dispose();
    model.train(wasTraining);
  }
}

/** A model, its optimizer and the data, trained one epoch at a time. */
export class Trainer {
  readonly model: Sequential;
  private readonly opt: Adam;
  private readonly gen: Generator;
  private stopped = false;
  /** Train, test and probe rows back to back: one forward pass and one readback per epoch. */
  private readonly evalRows: Float32Array;
  /** One training step; returns `lossSum + loss` (or the loss, on an epoch's first step). */
  private readonly step: ((x: Tensor, y: Tensor, lossSum: Tensor | null) => Tensor) & { dispose?(): void };
  epoch = 0;

  private constructor(
    readonly config: TrainConfig,
    readonly data: Split,
    readonly probe: Float32Array<ArrayBuffer>,
  ) {
    this.evalRows = new Float32Array(data.train.x.length + data.test.x.length + probe.length);
    this.evalRows.set(data.train.x, 0);
    this.evalRows.set(data.test.x, data.train.x.length);
    this.evalRows.set(probe, data.train.x.length + data.test.x.length);
    manualSeed(config.seed);
    this.gen = new Generator((config.seed * 7919 + 17) >>> 0);
    const { features, classes } = data.train;
    this.model = buildModel(features, config.hidden, classes, config.batchNorm);
    this.opt = new Adam(this.model.parameters(), { lr: config.lr });
    const step = (x: Tensor, y: Tensor, lossSum: Tensor | null): Tensor => {
      const l = softmaxCrossEntropy(this.model.forward(x), y).mean();
      this.opt.zeroGrad();
      l.backward();
      this.opt.step();
      return lossSum ? lossSum.add(l.detach()) : l.detach();
    };
    this.step =
      config.compiled === false
        ? (x, y, lossSum) => tidy(() => step(x, y, lossSum))
        : (compile(step) as CompiledFunction<[Tensor, Tensor, Tensor | null], Tensor>);
  }

  /**
   * Activates `config.backend` and builds a freshly initialised model on it. `probe` holds
   * extra rows (`features` values each) whose predictions every epoch reports.
   */
  static async create(
    config: TrainConfig,
    data: Split,
    probe: Float32Array<ArrayBuffer> = new Float32Array(0),
  ): Promise<Trainer> {
    await setBackend(config.backend);
    return new Trainer(config, data, probe);
  }

  /** Train and test accuracy, and the probe's predictions, from one pass over all rows. */
  async evaluate(): Promise<{ trainAccuracy: number; testAccuracy: number; probe: Int32Array }> {
    const { train, test } = this.data;
    const pred = await predict(this.model, this.evalRows, train.features);
    const hits = (ds: Dataset, offset: number) => {
      let n = 0;
      for (let i = 0; i < ds.n; i++) if (pred[offset + i] === ds.y[i]) n++;
      return n / ds.n;
    };
    return {
      trainAccuracy: hits(train, 0),
      testAccuracy: hits(test, train.n),
      probe: pred.subarray(train.n + test.n),
    };
  }

  /** Makes {@link run} return after the current step. */
  stop(): void {
    this.stopped = true;
  }

  /** Trains up to `config.epochs` epochs, calling `onEpoch` after each; returns false if stopped. */
  async run(
    onEpoch: (s: EpochStats) => void | Promise<void>,
    onStep?: () => void | Promise<void>,
  ): Promise<boolean> {
    const { train } = this.data;
    const bs = this.config.batchSize;
    const xb = new Float32Array(bs * train.features);
    const yb = new Int32Array(bs);
    while (this.epoch < this.config.epochs) {
      const order = permutation(train.n, this.gen);
      // The loss is summed on the backend and read once per epoch: a readback per step would
      // make WebGPU wait for the device after every step.
      let lossSum: Tensor | null = null;
      let batches = 0;
      const t0 = performance.now();
      // A batch of one cannot be batch-normalised, so a ragged last batch is dropped.
      for (let start = 0; start + bs <= train.n; start += bs) {
        if (this.stopped) {
          lossSum?.dispose();
          return false;
        }
        for (let r = 0; r < bs; r++) {
          const s = order[start + r];
          xb.set(train.x.subarray(s * train.features, (s + 1) * train.features), r * train.features);
          yb[r] = train.y[s];
        }
        const prev = lossSum as Tensor | null;
        const x = tensor(xb, { shape: [bs, train.features] });
        const y = tensor(yb, { shape: [bs] });
        lossSum = this.step(x, y, prev);
        for (const t of [x, y, prev]) t?.dispose();
        batches++;
        await onStep?.();
        await yieldToBrowser();
      }
      const loss = lossSum ? (await lossSum.item()) / batches : Number.NaN;
      lossSum?.dispose();
      const ms = performance.now() - t0;
      this.epoch++;
      const t1 = performance.now();
      const evaluation = await this.evaluate();
      await onEpoch({
        epoch: this.epoch,
        loss,
        samplesPerSec: (batches * bs * 1000) / Math.max(ms, 1e-3),
        evalMs: performance.now() - t1,
        ...evaluation,
      });
      await yieldToBrowser();
    }
    return true;
  }

  /** Frees the model's and the optimizer's tensors. */
  dispose(): void {
    this.stopped = true;
    this.step.dispose?.();
    this.opt.dispose();
    this.model.dispose();
  }
}
