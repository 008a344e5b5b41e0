/** BatchNorm1d against PyTorch 1.13, every mode, 2D and 3D, training steps then eval. */
import { expectClose, useBackend } from '@nabla/conformance';
import { composedOnly } from '@nabla/core';
import { type Fx, fromFx, stateFromFx } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { BatchNorm1d } from '../src/index.js';
import { backendsReporting, fixture, type NormPass, named } from './helpers.js';

interface Step extends NormPass {
  training: boolean;
  runningMean: Fx | null;
  runningVar: Fx | null;
  numBatchesTracked: number | null;
}
interface Case {
  name: string;
  referenceDtype: string;
  options: {
    numFeatures: number;
    eps: number;
    momentum: number | null;
    affine: boolean;
    trackRunningStats: boolean;
  };
  initialState: Record<string, Fx>;
  finalStateDictKeys: string[];
  steps: Step[];
}

const cases: Case[] = [
  ...fixture<{ cases: Case[] }>('batchnorm1d_2d').cases,
  ...fixture<{ cases: Case[] }>('batchnorm1d_3d').cases,
];
const names = await backendsReporting('BatchNorm1d');

/**
 * With two values per channel, the training-mode input gradient is a cancellation:
 * `(dy1 - dy2) · (1 - xhat²)` with `1 - xhat² = eps / (var + eps)`, here 1e-2 to 1e-5. Float32
 * can only promise its rounding error relative to the terms that cancel, `γ · invStd · dy`,
 * so the tolerance is a few float32 ulps of the largest of them (the float64 reference is exact).
 */
function cancellationAtol(c: Case, s: Step): number {
  const [n, ch] = s.input.shape;
  const l = s.input.shape[2] ?? 1;
  let worst = 0;
  for (let k = 0; k < ch; k++) {
    const vals: number[] = [];
    const dys: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < l; j++) {
        vals.push(s.input.data[(i * ch + k) * l + j]);
        dys.push(Math.abs(s.gradOutput.data[(i * ch + k) * l + j]));
      }
    }
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
    const gamma = c.initialState.weight ? Math.abs(c.initialState.weight.data[k]) : 1;
    worst = Math.max(worst, (gamma * Math.max(...dys)) / Math.sqrt(variance + c.options.eps));
  }
  return 16 * 2 ** -24 * worst;
}

// Each backend twice: its fused batch-norm kernels (when it has them), and core's composition
// of primitives; both must match PyTorch.
const paths = names.flatMap((b) => [
  [b, 'fused'],
  [b, 'composed'],
]);

describe.each(paths)('BatchNorm1d on %s (%s path)', (backend, path) => {
  const run = <T>(fn: () => T): T => (path === 'composed' ? composedOnly(fn) : fn());
  it.each(named(cases))('%s', async (_name, c) => {
    await useBackend(backend);
    const { numFeatures, ...options } = c.options;
    const bn = new BatchNorm1d(numFeatures, options);
    expect(Object.keys(bn.stateDict())).toEqual(c.finalStateDictKeys);
    // Non-default affine parameters from the fixture; the buffers start at PyTorch's defaults.
    const initial = stateFromFx(c.initialState);
    bn.loadStateDict(initial);
    for (const t of Object.values(initial)) t.dispose();
    const buffers = [bn.runningMean, bn.runningVar, bn.numBatchesTracked];
    const family = `BatchNorm1d${c.referenceDtype === 'float64' ? ' (float64 reference)' : ''} [${path}]`;
    for (const [i, s] of c.steps.entries()) {
      const at = `${c.name}, step ${i} (${s.training ? 'train' : 'eval'})`;
      bn.train(s.training);
      const x = fromFx(s.input, { requiresGrad: true });
      const y = run(() => bn.forward(x));
      const g = fromFx(s.gradOutput);
      run(() => y.backward(g));
      await expectClose(family, `${at}: output`, y, s.output);
      const cancels = s.training && s.input.data.length / s.input.shape[1] === 2;
      await expectClose(family, `${at}: input grad`, x.grad!, s.inputGrad, {
        atol: cancels ? cancellationAtol(c, s) : undefined,
      });
      const { weight, bias } = bn;
      if (s.weightGrad && weight) await expectClose(family, `${at}: weight grad`, weight.grad!, s.weightGrad);
      if (s.biasGrad && bias) await expectClose(family, `${at}: bias grad`, bias.grad!, s.biasGrad);
      expect(weight === null, 'affine').toBe(s.weightGrad === null);
      if (s.runningMean) await expectClose(family, `${at}: running mean`, bn.runningMean!, s.runningMean);
      if (s.runningVar) await expectClose(family, `${at}: running var`, bn.runningVar!, s.runningVar);
      if (s.numBatchesTracked === null) {
        expect(bn.numBatchesTracked).toBeNull();
      } else {
        expect(bn.numBatchesTracked!.dtype).toBe('int32');
        expect(await bn.numBatchesTracked!.item()).toBe(s.numBatchesTracked);
      }
      bn.zeroGrad();
      for (const t of [x, y, g]) t.dispose();
    }
    // Running statistics were updated in place, never replaced.
    expect(bn.runningMean).toBe(buffers[0]);
    expect(bn.runningVar).toBe(buffers[1]);
    expect(bn.numBatchesTracked).toBe(buffers[2]);
    expect(buffers.every((b) => b === null || !b.isDisposed)).toBe(true);
    bn.dispose();
  });
});
