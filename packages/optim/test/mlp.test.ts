/**
 * Five training steps of a 6→8 (no bias)→BN→ReLU→3 MLP with SGD, Adam and AdamW: the loss and every
 * parameter and buffer after every step against PyTorch 1.13.
 */
import { backends, expectClose, reportDifferences, useBackend } from '@nabla/conformance';
import { composedOnly, tidy } from '@nabla/core';
import { BatchNorm1d, CrossEntropyLoss, Linear, ReLU, Sequential } from '@nabla/nn';
import { type Fx, fromFx, intFromFx, stateFromFx, trainingStep } from '@nabla/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { Adam, AdamW, type Optimizer, SGD } from '../src/index.js';
import { fixture } from './helpers.js';

interface Run {
  name: string;
  defaults: Record<string, any>;
  lrChange: [number, number] | null;
  initialState: Record<string, Fx>;
  inputs: Fx[];
  targets: Fx[];
  steps: { loss: number; state: Record<string, Fx> }[];
}

const families: [string, (params: any[], d: Record<string, any>) => Optimizer<any>][] = [
  [
    'sgd',
    (p, d) =>
      new SGD(p, {
        lr: d.lr,
        momentum: d.momentum,
        dampening: d.dampening,
        weightDecay: d.weight_decay,
        nesterov: d.nesterov,
      }),
  ],
  [
    'adam',
    (p, d) =>
      new Adam(p, { lr: d.lr, betas: d.betas, eps: d.eps, weightDecay: d.weight_decay, amsgrad: d.amsgrad }),
  ],
  [
    'adamw',
    (p, d) =>
      new AdamW(p, { lr: d.lr, betas: d.betas, eps: d.eps, weightDecay: d.weight_decay, amsgrad: d.amsgrad }),
  ],
];
const runs = families.flatMap(([file, make]) =>
  fixture<{ runs: Run[] }>(file).runs.map((r) => [`${file}: ${r.name}`, r, make] as const),
);
const names = await backends();

afterAll(() => reportDifferences('optimizers (MLP, 5 steps)'));

// Each backend twice: with its fused kernels (linear, batch norm, softmax cross-entropy, the
// optimizer steps) where it has them, and with core's compositions of primitives.
// The composed path replays the runs that use the most options (it is slow on software WebGPU).
const composedRuns = new Set([
  'sgd: nesterov weight decay',
  'sgd: momentum dampening',
  'adam: adam amsgrad weight decay',
  'adamw: adamw amsgrad',
]);
const paths = names.flatMap((b) => [
  [b, 'fused'],
  [b, 'composed'],
]);

describe.each(paths)('optimizers on %s (%s path)', (backend, path) => {
  const via = <T>(fn: () => T): T => (path === 'composed' ? composedOnly(fn) : fn());
  it.each(
    path === 'composed' ? runs.filter(([name]) => composedRuns.has(name)) : runs,
  )('%s', async (name, run, make) => {
    await useBackend(backend);
    const model = new Sequential(
      new Linear(6, 8, { bias: false }),
      new BatchNorm1d(8),
      new ReLU(),
      new Linear(8, 3),
    );
    const init = stateFromFx(run.initialState);
    model.loadStateDict(init);
    for (const t of Object.values(init)) t.dispose();
    const opt = make(model.parameters(), run.defaults);
    const lossFn = new CrossEntropyLoss();
    const family = `${name.split(':')[0]} [${path}]`;
    for (const [i, s] of run.steps.entries()) {
      if (run.lrChange && i === run.lrChange[0]) opt.lr = run.lrChange[1];
      // The outer scope also frees this step's inputs.
      const loss = via(() =>
        tidy(() => trainingStep(model, lossFn, opt, fromFx(run.inputs[i]), intFromFx(run.targets[i]))),
      );
      await expectClose(family, `${name}, step ${i}: loss`, loss, s.loss);
      loss.dispose();
      const sd = model.stateDict();
      for (const [k, v] of Object.entries(s.state)) {
        if (k.endsWith('num_batches_tracked')) {
          expect(await sd[k].item(), k).toBe(v.data[0]);
          continue;
        }
        await expectClose(family, `${name}, step ${i}: ${k}`, sd[k], v);
      }
    }
    opt.dispose();
    model.dispose();
  });
});
