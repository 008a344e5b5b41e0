/**
 * The training loop every example shares: seeded mini-batches, one `tidy` per step,
 * evaluation on the held-out split, a checkpoint after every epoch, then the table, the
 * curves and the example's own pictures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, concat, manualSeed, memory, noGrad, type Tensor, tidy, zeros } from '@nabla/core';
import { save as saveSafetensors } from '@nabla/interop';
import { CrossEntropyLoss, type Module, MSELoss } from '@nabla/nn';
import type { Optimizer } from '@nabla/optim';
import {
  type Checkpoint,
  CheckpointError,
  captureRun,
  makeCheckpoint,
  newRunId,
  removeStaleTemps,
  restoreRun,
  saveCheckpoint,
} from './checkpoint.js';
import { batches, type Dataset, epochOrder } from './data/dataset.js';
import type { ExampleDef, Prepared } from './example.js';
import { type EpochRecord, runSummary } from './history.js';
import { makeOptimizer } from './optimizers.js';
import type { RunConfig } from './options.js';
import { chartSvg, type Series } from './plot/chart.js';
import { svgToPng } from './plot/rasterise.js';
import { terminalChart } from './plot/terminal.js';
import { EpochProgress, type ProgressSink } from './progress.js';
import { makeSchedule, type RunSchedule } from './schedulers.js';

/** How to run; the CLI fills this from flags, tests directly. */
export interface TrainOptions {
  example: ExampleDef;
  config: RunConfig;
  /** Name of the active backend (for messages only; the caller activates it). */
  backend: string;
  outDir: string;
  /** Continue from this checkpoint's state (its config must describe the same models). */
  resumeFrom?: Checkpoint;
  /** Only evaluate the checkpoint's models on the test split. */
  evalOnly?: boolean;
  /**
   * Run the training and evaluation steps op by op. By default each is compiled (`compile`
   * from `@nabla/core`): captured on its first call, replayed after; the numbers are the same.
   */
  eager?: boolean;
  /** Stop after this many epochs have completed, as if the process were killed (tests resume). */
  interruptAfter?: number;
  /** Progress output (default: stdout). */
  sink?: ProgressSink;
  /** Skip the pictures (tests that only care about numbers). */
  noPictures?: boolean;
  /** This run's id (default: the resumed checkpoint's, else a new one). */
  runId?: string;
  /** Told after each checkpoint is written (the process entry uses it for Ctrl-C's hint). */
  onCheckpoint?: (saved: { path: string; epoch: number; runId: string }) => void;
  /** Warnings (default: the progress sink). */
  warn?: (line: string) => void;
}

/** Steps whose mean loss is the baseline the divergence warning compares with. */
const GROWTH_BASELINE_STEPS = 10;

/** Training stopped because the loss became NaN or infinite. */
export class DivergedError extends Error {
  override name = 'DivergedError';
}

/** What a run produced. */
export interface TrainResult {
  history: EpochRecord[];
  /** Test loss and metric of each run's final model. */
  final: Record<string, { testLoss: number; testMetric: number }>;
  metricName: string;
  files: string[];
  seconds: number;
  /**
   * Tensors and bytes made and not disposed after each trained epoch: `memory()`'s live counts
   * plus what the garbage-collection safety net released (`memory().collected`), so the numbers
   * stay flat when nothing leaks even if the collector frees something between epochs, and a
   * tensor left to the collector still shows.
   */
  memoryPerEpoch: { tensors: number; bytes: number }[];
}

interface Pass {
  loss: number;
  metric: number;
}

function rSquared(sse: number, ys: Float32Array | Int32Array): number {
  let mean = 0;
  for (const v of ys) mean += v;
  mean /= ys.length;
  let sst = 0;
  for (const v of ys) sst += (v - mean) ** 2;
  return 1 - sse / sst;
}

/**
 * The step's loss and number of correct predictions as one `[2]` tensor, so a step costs one
 * read-back (on WebGPU every read is a round trip to the device).
 */
function lossAndCorrect(loss: Tensor, correct: Tensor | null): Tensor {
  return concat([loss.detach().reshape([1]), correct ? correct.float().reshape([1]) : zeros([1])], 0);
}

/** Correct predictions of class-index targets: `argmax(1) == y`. */
const argmaxCorrect = (pred: Tensor, y: Tensor): Tensor => pred.argmax(1).eq(y).sum();

/** A step of one model: `[x, y]` in, the `[loss, correct]` tensor out. */
type Step = (x: Tensor, y: Tensor) => Tensor;

/** `step` compiled (the default), or run op by op inside a `tidy` with `eager`. */
function maybeCompiled(step: Step, eager: boolean): Step & { dispose(): void } {
  if (!eager) return compile(step);
  return Object.assign((x: Tensor, y: Tensor) => tidy(() => step(x, y)), { dispose() {} });
}

/** The evaluation step: forward and loss, without gradients. */
function evalStep(
  model: Module,
  lossFn: Module,
  task: Prepared['task'],
  correctOf: (pred: Tensor, y: Tensor) => Tensor,
): Step {
  return (x, y) =>
    noGrad(() => {
      const pred = model.forward(x);
      const loss = lossFn.forward(pred, y);
      return lossAndCorrect(loss, task === 'classification' ? correctOf(pred, y) : null);
    });
}

/** Mean loss and metric over a dataset in eval mode, without gradients. */
async function evaluate(model: Module, step: Step, ds: Dataset, task: Prepared['task']): Promise<Pass> {
  model.eval();
  let lossSum = 0;
  let correct = 0;
  const all = new Int32Array(ds.n).map((_, i) => i);
  for (const [x, y] of batches(ds, all, 1000)) {
    const out = step(x, y);
    const [l, c] = await out.data();
    lossSum += l * x.shape[0];
    correct += c;
    for (const t of [x, y, out]) t.dispose();
  }
  const loss = lossSum / ds.n;
  return { loss, metric: task === 'classification' ? correct / ds.n : rSquared(loss * ds.n, ds.y) };
}

function metricText(task: Prepared['task'], v: number): string {
  return task === 'classification' ? `acc ${(v * 100).toFixed(2)}%` : `R² ${v.toFixed(4)}`;
}

/** Trains (or with `evalOnly`, evaluates) an example as configured. */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const cfg = opts.config;
  const sink: ProgressSink = opts.sink ?? {
    write: (s) => process.stdout.write(s),
    isTTY: Boolean(process.stdout.isTTY),
  };
  const say = (line: string) => sink.write(`${line}\n`);
  const warn = opts.warn ?? say;
  const runId = opts.resumeFrom?.runId ?? opts.runId ?? newRunId();

  manualSeed(cfg.seed);
  const prepared = opts.example.prepare(cfg);
  const { task, split } = prepared;
  const metricName = task === 'classification' ? 'accuracy' : 'R²';
  const lossFn = prepared.lossFn ?? (task === 'classification' ? new CrossEntropyLoss() : new MSELoss());
  const correctOf = prepared.correct ?? argmaxCorrect;
  const optimizers = new Map<string, Optimizer<any>>();
  for (const r of prepared.runs) optimizers.set(r.name, makeOptimizer(r.model.parameters(), cfg.optimizer));
  const eager = opts.eager ?? false;
  // One training and one evaluation step per run, compiled unless `eager`.
  const trainSteps = new Map<string, Step & { dispose(): void }>();
  const evalSteps = new Map<string, Step & { dispose(): void }>();
  for (const r of prepared.runs) {
    const opt = optimizers.get(r.name)!;
    const trainStep: Step = (x, y) => {
      opt.zeroGrad();
      const pred = r.model.forward(x);
      const loss = lossFn.forward(pred, y);
      loss.backward();
      prepared.beforeStep?.(r.model);
      opt.step();
      return noGrad(() => lossAndCorrect(loss, task === 'classification' ? correctOf(pred, y) : null));
    };
    trainSteps.set(r.name, maybeCompiled(trainStep, eager));
    evalSteps.set(r.name, maybeCompiled(evalStep(r.model, lossFn, task, correctOf), eager));
  }
  // Everything the run owns, freed when it ends (or fails).
  const dispose = () => {
    for (const s of [...trainSteps.values(), ...evalSteps.values()]) s.dispose();
    for (const r of prepared.runs) r.model.dispose();
    for (const o of optimizers.values()) o.dispose();
    prepared.dispose?.();
  };
  // Learning-rate schedules (@nabla/optim), one per run; they set the rate for epoch 0 now.
  const steps = Math.ceil(split.train.n / cfg.batchSize);
  const schedules = new Map<string, RunSchedule | null>();
  for (const r of prepared.runs) schedules.set(r.name, makeSchedule(optimizers.get(r.name)!, cfg, steps));

  let history: EpochRecord[] = [];
  let startEpoch = 0;
  if (opts.resumeFrom) {
    const ck = opts.resumeFrom;
    if (ck.example !== opts.example.name) {
      throw new Error(`checkpoint is for example '${ck.example}', not '${opts.example.name}'`);
    }
    for (const r of prepared.runs) {
      // Replay the schedule to the checkpoint's epoch (it only changes rates), then restore.
      const schedule = schedules.get(r.name);
      const replay = schedule ? ck.epoch * (schedule.every === 'batch' ? steps : 1) : 0;
      for (let i = 0; i < replay; i++) schedule!.step();
      const state = ck.runs[r.name];
      if (!state)
        throw new CheckpointError(
          `checkpoint has no run '${r.name}' (it has: ${Object.keys(ck.runs).join(', ')})`,
        );
      try {
        restoreRun(state, r.model, optimizers.get(r.name)!, r.name);
      } catch (err) {
        dispose();
        throw err;
      }
    }
    history = ck.history;
    startEpoch = ck.epoch;
  }

  const final: TrainResult['final'] = {};
  const files: string[] = [];
  const memoryPerEpoch: TrainResult['memoryPerEpoch'] = [];

  if (opts.evalOnly) {
    for (const r of prepared.runs) {
      const ev = await evaluate(r.model, evalSteps.get(r.name)!, split.test, task);
      final[r.name] = { testLoss: ev.loss, testMetric: ev.metric };
      say(
        `${r.name}: test loss ${ev.loss.toFixed(4)}  test ${metricText(task, ev.metric)}  (${split.test.n} samples, checkpoint after epoch ${startEpoch})`,
      );
    }
    dispose();
    return {
      history,
      final,
      metricName,
      files,
      seconds: (performance.now() - started) / 1000,
      memoryPerEpoch,
    };
  }

  if (startEpoch >= cfg.epochs) {
    dispose();
    throw new CheckpointError(
      `the checkpoint's run already finished its ${startEpoch} epochs; pass --epochs with more than ${startEpoch} to train further, or --eval-only to evaluate it`,
    );
  }
  const checkpointPath = join(opts.outDir, 'checkpoint.json');
  // A save that was killed leaves its temporary file behind; it is never read, so remove it.
  for (const stale of removeStaleTemps(checkpointPath)) warn(`removed ${stale}, left by an interrupted save`);
  const firstLosses: number[] = [];
  let warnedGrowth = false;
  const stop = Math.min(cfg.epochs, opts.interruptAfter ?? Number.POSITIVE_INFINITY);
  for (let epoch = startEpoch; epoch < stop; epoch++) {
    for (const r of prepared.runs) {
      const opt = optimizers.get(r.name)!;
      const trainStep = trainSteps.get(r.name)!;
      const schedule = schedules.get(r.name) ?? null;
      const lr = opt.lr;
      r.model.train();
      const label = `${prepared.runs.length > 1 ? `${r.name} ` : ''}epoch ${String(epoch + 1).padStart(String(cfg.epochs).length)}/${cfg.epochs}`;
      const progress = new EpochProgress(sink, label, steps);
      const t0 = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let step = 0;
      for (const [x, y] of batches(split.train, epochOrder(split.train.n, cfg.seed, epoch), cfg.batchSize)) {
        // Everything made during the step is freed when it ends, except the two scalars returned.
        const out = trainStep(x, y);
        if (schedule?.every === 'batch') schedule.step();
        const [l, c] = await out.data();
        if (!Number.isFinite(l)) {
          for (const t of [x, y, out]) t.dispose();
          progress.finish(`${label}  stopped at step ${step + 1}/${steps}`);
          dispose();
          throw new DivergedError(
            `the loss became ${l} at epoch ${epoch + 1}, step ${step + 1} of ${steps} (run ${r.name}, lr ${lr}): training diverged. ` +
              `Try a lower learning rate, e.g. --lr ${lr / 10}.${epoch > 0 ? ` The checkpoint after epoch ${epoch} is unchanged.` : ''}`,
          );
        }
        // Growth is judged on averages (one small batch's loss is noisy): the mean of the run's
        // first steps, against the mean of this epoch so far.
        if (firstLosses.length < GROWTH_BASELINE_STEPS) firstLosses.push(l);
        const baseline = firstLosses.reduce((a, b) => a + b, 0) / firstLosses.length;
        const current = (lossSum + l * x.shape[0]) / (seen + x.shape[0]);
        if (
          !warnedGrowth &&
          firstLosses.length === GROWTH_BASELINE_STEPS &&
          step >= GROWTH_BASELINE_STEPS &&
          current > 100 * baseline
        ) {
          warnedGrowth = true;
          warn(
            `warning: the mean loss grew from ${baseline.toPrecision(4)} (first ${GROWTH_BASELINE_STEPS} steps) to ${current.toPrecision(4)} at epoch ${epoch + 1}, step ${step + 1}: training may be diverging (lr ${lr}); a lower --lr may help`,
          );
        }
        // On cpu and wasm the read resolves as a microtask, so a whole run could pass without
        // the event loop turning once: yield, so Ctrl-C and other events are handled mid-epoch.
        await new Promise((resolve) => setImmediate(resolve));
        const n = x.shape[0];
        for (const t of [x, y, out]) t.dispose();
        lossSum += l * n;
        correct += c;
        seen += n;
        step++;
        const running = task === 'classification' ? `acc ${((correct / seen) * 100).toFixed(1)}%` : '';
        progress.update(step, lossSum / seen, running, seen / ((performance.now() - t0) / 1000));
      }
      const seconds = (performance.now() - t0) / 1000;
      const trainLoss = lossSum / seen;
      const trainMetric =
        task === 'classification' ? correct / seen : rSquared(trainLoss * seen, split.train.y);
      const ev = await evaluate(r.model, evalSteps.get(r.name)!, split.test, task);
      if (schedule?.every === 'epoch') schedule.step();
      const rec: EpochRecord = {
        run: r.name,
        epoch: epoch + 1,
        lr,
        trainLoss,
        trainMetric,
        testLoss: ev.loss,
        testMetric: ev.metric,
        seconds,
        samplesPerSec: seen / seconds,
      };
      history.push(rec);
      progress.finish(
        `${label}  loss ${trainLoss.toFixed(4)}  ${metricText(task, trainMetric)}  | test loss ${ev.loss.toFixed(4)}  ${metricText(task, ev.metric)}  | ${seconds.toFixed(2)}s  ${Math.round(rec.samplesPerSec)} samples/s  lr ${lr.toPrecision(3)}`,
      );
    }
    const runs: Checkpoint['runs'] = {};
    for (const r of prepared.runs) runs[r.name] = await captureRun(r.model, optimizers.get(r.name)!);
    try {
      saveCheckpoint(
        checkpointPath,
        makeCheckpoint({ runId, example: opts.example.name, epoch: epoch + 1, config: cfg, history, runs }),
      );
    } catch (err) {
      dispose();
      throw err;
    }
    opts.onCheckpoint?.({ path: checkpointPath, epoch: epoch + 1, runId });
    const m = memory();
    memoryPerEpoch.push({ tensors: m.tensors + m.collected.tensors, bytes: m.bytes + m.collected.bytes });
  }
  if (!files.includes(checkpointPath) && history.length) files.push(checkpointPath);

  for (const r of prepared.runs) {
    const last = [...history].reverse().find((h) => h.run === r.name);
    if (last) final[r.name] = { testLoss: last.testLoss, testMetric: last.testMetric };
  }
  const interrupted = stop < cfg.epochs;
  if (!interrupted && history.length) {
    say('');
    say(runSummary(history, metricName));
    say('');
    const names = prepared.runs.map((r) => r.name);
    const pick = (run: string, key: keyof EpochRecord) =>
      history.filter((h) => h.run === run).map((h) => h[key] as number);
    const lossSeries =
      names.length > 1
        ? names.map((n) => ({ name: `${n} train loss`, y: pick(n, 'trainLoss') }))
        : [
            { name: 'train loss', y: pick(names[0], 'trainLoss') },
            { name: 'test loss', y: pick(names[0], 'testLoss') },
          ];
    // As wide as the terminal (less the axis labels), else 60 columns.
    const columns = sink.isTTY ? process.stdout.columns : undefined;
    say(terminalChart(lossSeries, columns ? { width: Math.max(20, columns - 14) } : {}));
    // The trained weights with PyTorch's names: `safetensors.torch.load_file` then
    // `load_state_dict` in Python, or `interop.load` here (the checkpoint also holds the optimizer).
    mkdirSync(opts.outDir, { recursive: true });
    for (const r of prepared.runs) {
      const path = join(opts.outDir, names.length > 1 ? `model-${r.name}.safetensors` : 'model.safetensors');
      await saveSafetensors(r.model, path);
      files.push(path);
    }
    if (!opts.noPictures) {
      // Each picture is drawn once, as SVG; the PNG is that SVG rasterised.
      const save = async (name: string, svg: string) => {
        const paths = [join(opts.outDir, `${name}.svg`), join(opts.outDir, `${name}.png`)];
        writeFileSync(paths[0], svg);
        writeFileSync(paths[1], await svgToPng(svg));
        return paths;
      };
      const metricSeries: Series[] = names.flatMap((n) => [
        { name: `${names.length > 1 ? `${n} ` : ''}train ${metricName}`, y: pick(n, 'trainMetric') },
        { name: `${names.length > 1 ? `${n} ` : ''}test ${metricName}`, y: pick(n, 'testMetric') },
      ]);
      const lossSpec = {
        title: `${opts.example.name}: loss`,
        xLabel: 'epoch',
        yLabel: 'loss',
        series: lossSeries,
        logY: true,
      };
      const metricSpec = {
        title: `${opts.example.name}: ${metricName}`,
        xLabel: 'epoch',
        yLabel: metricName,
        series: metricSeries,
      };
      files.push(...(await save('loss', chartSvg(lossSpec))));
      files.push(...(await save(task === 'classification' ? 'accuracy' : 'r2', chartSvg(metricSpec))));
      if (prepared.pictures)
        files.push(...(await prepared.pictures({ outDir: opts.outDir, runs: prepared.runs, split, save })));
    }
  }
  dispose();
  return {
    history,
    final,
    metricName,
    files,
    seconds: (performance.now() - started) / 1000,
    memoryPerEpoch,
  };
}
