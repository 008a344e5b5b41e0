/** BatchNorm1d's state dict, resets, errors and repr against PyTorch 1.13. */
import { expectClose, useBackend } from '@nabla/conformance';
import { memory, tensor, tidy } from '@nabla/core';
import { type Fx, fromFx } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { BatchNorm1d, Linear, ReLU, Sequential } from '../src/index.js';
import { backendsReporting, fixture } from './helpers.js';

const fx = fixture('batchnorm1d_state');
const names = await backendsReporting('BatchNorm1d state');

/** PyTorch prints shapes as `torch.Size([1, 4])`; Nabla's words say `[1, 4]`. */
const pyMessage = (m: string): string => m.replace(/torch\.Size\((\[[^\]]*\])\)/g, '$1');

function stateFromFx(values: Record<string, Fx>) {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      k,
      k.endsWith('num_batches_tracked')
        ? tensor(new Int32Array(v.data), { shape: v.shape, dtype: 'int32' })
        : fromFx(v),
    ]),
  );
}

describe.each(names)('BatchNorm1d state on %s', (backend) => {
  it('state-dict keys for every affine/trackRunningStats combination', async () => {
    await useBackend(backend);
    for (const [key, expected] of Object.entries(fx.keysByOption as Record<string, string[]>)) {
      const [affine, track] = key.split(',').map((kv) => kv.endsWith('True'));
      const bn = new BatchNorm1d(2, { affine, trackRunningStats: track });
      expect(Object.keys(bn.stateDict()), key).toEqual(expected);
      expect(bn.parameters().length).toBe(affine ? 2 : 0);
      expect(bn.weight === null).toBe(!affine);
      expect(bn.runningMean === null && bn.runningVar === null && bn.numBatchesTracked === null).toBe(!track);
      bn.dispose();
    }
  });

  it("Sequential names match PyTorch's", async () => {
    await useBackend(backend);
    const model = new Sequential(new Linear(8, 16), new BatchNorm1d(16), new ReLU(), new Linear(16, 3));
    expect(Object.keys(model.stateDict())).toEqual(fx.sequential.stateDictKeys);
    expect(model.namedParameters().map(([n]) => n)).toEqual(fx.sequential.parameterNames);
    expect(model.namedBuffers().map(([n]) => n)).toEqual(fx.sequential.bufferNames);
    expect(model.toString()).toBe(fx.repr.sequential);
    expect(new BatchNorm1d(3).toString()).toBe(fx.repr.bn);
    expect(new BatchNorm1d(3, { momentum: null, affine: false }).toString()).toBe(fx.repr.bnNull);
    model.dispose();
  });

  it('loads a state dict, then resetRunningStats and resetParameters match PyTorch', async () => {
    await useBackend(backend);
    const bn = new BatchNorm1d(3);
    const sd = stateFromFx(fx.stateDict.values);
    bn.loadStateDict(sd);
    const own = bn.stateDict();
    expect(Object.keys(own)).toEqual(fx.stateDict.keys);
    for (const k of fx.stateDict.keys as string[])
      await expectClose('state dict', k, own[k], fx.stateDict.values[k]);
    expect(await bn.numBatchesTracked!.item()).toBe(2);
    const buffers = bn.buffers();
    bn.resetRunningStats();
    for (const [k, v] of Object.entries(fx.afterResetRunningStats as Record<string, Fx>)) {
      await expectClose('state dict', `after resetRunningStats: ${k}`, own[k], v);
    }
    bn.resetParameters();
    for (const [k, v] of Object.entries(fx.afterResetParameters as Record<string, Fx>)) {
      await expectClose('state dict', `after resetParameters: ${k}`, own[k], v);
    }
    expect(bn.buffers()).toEqual(buffers);
    expect(bn.buffers().every((b, i) => b === buffers[i])).toBe(true);
    for (const t of Object.values(sd)) t.dispose();
    bn.dispose();
  });

  it('loadStateDict reports missing, unexpected and mis-shaped entries before changing anything', async () => {
    await useBackend(backend);
    const bn = new BatchNorm1d(3);
    const sd = stateFromFx(fx.stateDict.values);
    const extra = tensor([1, 2]);
    const { running_var, ...partial } = sd;
    expect(() => bn.loadStateDict({ ...partial, extra })).toThrow(
      'Error(s) in loading state_dict for BatchNorm1d:\n\tMissing key(s) in state_dict: "running_var".\n\t' +
        'Unexpected key(s) in state_dict: "extra".',
    );
    expect(await bn.runningMean!.data()).toEqual(new Float32Array([0, 0, 0]));
    const wrong = tensor([1, 2]);
    expect(() => bn.loadStateDict({ ...sd, bias: wrong })).toThrow(
      'size mismatch for bias: copying a param with shape [2] from checkpoint, the shape in current model is [3].',
    );
    expect(await bn.weight!.data()).toEqual(new Float32Array([1, 1, 1]));
    // Non-strict: loads what matches and lists the rest.
    const result = bn.loadStateDict({ ...partial, extra }, { strict: false });
    expect(result).toEqual({ missingKeys: ['running_var'], unexpectedKeys: ['extra'] });
    await expectClose('state dict', 'non-strict weight', bn.weight!, fx.stateDict.values.weight);
    for (const t of [...Object.values(sd), extra, wrong]) t.dispose();
    bn.dispose();
  });

  it("throws PyTorch's errors before any state changes", async () => {
    await useBackend(backend);
    const e = fx.errors as Record<string, string>;
    const cases: [string, () => BatchNorm1d, number[]][] = [
      ['input4d', () => new BatchNorm1d(4), [2, 4, 3, 3]],
      ['input1d', () => new BatchNorm1d(4), [4]],
      ['singleValueTraining', () => new BatchNorm1d(4), [1, 4]],
      ['singleValueTraining3d', () => new BatchNorm1d(4), [1, 4, 1]],
      ['singleValueEvalNoStats', () => new BatchNorm1d(4, { trackRunningStats: false }).eval(), [1, 4]],
      ['channelMismatchTraining', () => new BatchNorm1d(5), [3, 4]],
      ['channelMismatchEval', () => new BatchNorm1d(5).eval(), [3, 4]],
      ['channelMismatchNoStatsAffine', () => new BatchNorm1d(5, { trackRunningStats: false }), [3, 4]],
      ['channelMismatch3d', () => new BatchNorm1d(5), [3, 4, 2]],
    ];
    for (const [key, make, shape] of cases) {
      const bn = make();
      const meanBefore = bn.runningMean ? Array.from(await bn.runningMean.data()) : null;
      // counted with no await in between: the collector's callbacks (tensors earlier tests
      // dropped) run only between tasks
      const before = memory().tensors;
      const x = tidy(() =>
        fromFx({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i) }),
      );
      expect(() => bn.forward(x), key).toThrow(pyMessage(e[key]));
      x.dispose();
      expect(memory().tensors, `${key}: nothing leaked`).toBe(before);
      if (bn.numBatchesTracked) expect(await bn.numBatchesTracked.item(), key).toBe(0);
      if (meanBefore) expect(Array.from(await bn.runningMean!.data()), key).toEqual(meanBefore);
      bn.dispose();
    }
  });

  it('eval with running statistics accepts a single sample; without them channels are free', async () => {
    await useBackend(backend);
    const bn = new BatchNorm1d(3).eval();
    const x = fromFx(fx.evalSingleSample.input);
    const y = bn.forward(x);
    await expectClose('state dict', 'eval single sample', y, fx.evalSingleSample.output);
    // PyTorch checks nothing against the channel count when there is neither weight nor running stats.
    const free = new BatchNorm1d(5, { affine: false, trackRunningStats: false });
    const z = free.forward(
      tensor([
        [1, 2],
        [3, 5],
      ]),
    );
    expect(Array.from(await z.data())).toEqual([-1, -1, 1, 1].map((v) => expect.closeTo(v, 3)));
    for (const t of [x, y, z]) t.dispose();
    bn.dispose();
  });
});
