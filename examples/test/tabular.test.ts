/**
 * The tabular example with both normalisation layers, and a run interrupted and resumed from
 * its checkpoint matching an uninterrupted one under OneCycleLR (the schedule is replayed).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends.js';
import { loadCheckpoint } from '../src/checkpoint.js';
import { EXAMPLES } from '../src/examples/index.js';
import { train } from '../src/train.js';
import { captureSink, tempDir, tinyConfig } from './helpers.js';

describe('tabular (cpu)', () => {
  it('learns with BatchNorm1d too', async () => {
    await selectBackend('cpu');
    const res = await train({
      example: EXAMPLES.tabular,
      config: tinyConfig('tabular', { model: { layerNorm: false } }),
      backend: 'cpu',
      outDir: tempDir(),
      sink: captureSink(),
      noPictures: true,
    });
    expect(res.final.mlp.testMetric).toBeGreaterThan(0.7);
  });

  it('interrupted and resumed, the OneCycleLR run equals an uninterrupted one', async () => {
    await selectBackend('cpu');
    const config = tinyConfig('tabular', { epochs: 4 });
    const common = {
      example: EXAMPLES.tabular,
      config,
      backend: 'cpu',
      sink: captureSink(),
      noPictures: true,
    };
    const whole = await train({ ...common, outDir: tempDir() });
    const out = tempDir();
    await train({ ...common, outDir: out, interruptAfter: 2 });
    const resumed = await train({
      ...common,
      outDir: out,
      resumeFrom: loadCheckpoint(join(out, 'checkpoint.json')),
    });
    const pick = (h: typeof whole.history) => h.map((r) => [r.lr, r.trainLoss, r.testLoss]);
    expect(pick(resumed.history)).toEqual(pick(whole.history));
  });
});
