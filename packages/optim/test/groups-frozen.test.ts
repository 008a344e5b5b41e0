/**
 * Parameter groups with their own learning rate and a frozen layer (`requiresGrad = false`),
 * four SGD-with-momentum steps of the fixture MLP against PyTorch 1.13: the frozen weight gets
 * no gradient and does not move, the others follow their group's rate, and BatchNorm's running
 * statistics still update.
 */
import { backends, expectClose, reportDifferences, useBackend } from '@nabla/conformance';
import { tidy } from '@nabla/core';
import { BatchNorm1d, CrossEntropyLoss, Linear, ReLU, Sequential } from '@nabla/nn';
import { type Fx, fromFx, intFromFx, stateFromFx, trainingStep } from '@nabla/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { SGD } from '../src/index.js';
import { fixture } from './helpers.js';

const fx = fixture<{
  initialState: Record<string, Fx>;
  inputs: Fx[];
  targets: Fx[];
  steps: { loss: number; state: Record<string, Fx>; frozenGradIsNone: boolean }[];
}>('groups_frozen');
const names = await backends();
afterAll(() => reportDifferences('parameter groups + frozen layer'));

describe.each(names)('parameter groups and freezing on %s', (backend) => {
  it('two groups (lr 0.3 and the default 0.1), first Linear frozen', async () => {
    await useBackend(backend);
    const l0 = new Linear(6, 8, { bias: false });
    const bn = new BatchNorm1d(8);
    const l3 = new Linear(8, 3);
    const model = new Sequential(l0, bn, new ReLU(), l3);
    const init = stateFromFx(fx.initialState);
    model.loadStateDict(init);
    l0.weight.requiresGrad = false;
    const opt = new SGD([{ params: [bn.weight!, bn.bias!], lr: 0.3 }, { params: [l3.weight, l3.bias!] }], {
      lr: 0.1,
      momentum: 0.9,
    });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.3, 0.1]);
    const lossFn = new CrossEntropyLoss();
    for (const [i, s] of fx.steps.entries()) {
      // The outer scope also frees this step's inputs.
      const loss = tidy(() =>
        trainingStep(model, lossFn, opt, fromFx(fx.inputs[i]), intFromFx(fx.targets[i])),
      );
      expect(l0.weight.grad === null).toBe(s.frozenGradIsNone);
      await expectClose('groups', `step ${i}: loss`, loss, s.loss);
      loss.dispose();
      const sd = model.stateDict();
      for (const [k, v] of Object.entries(s.state)) {
        if (k.endsWith('num_batches_tracked')) expect(await sd[k].item(), k).toBe(v.data[0]);
        else await expectClose('groups', `step ${i}: ${k}`, sd[k], v);
      }
    }
    opt.dispose();
    model.dispose();
  });
});
