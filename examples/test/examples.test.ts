/**
 * Every example, in a tiny configuration, on every backend under test: learning must happen
 * (loss falls by a margin, the metric ends well above chance) and memory must stay flat.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { backendsUnderTest } from '@nabla/conformance';
import { held } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends.js';
import { EXAMPLES } from '../src/examples/index.js';
import { train } from '../src/train.js';
import { captureSink, tempDir, tinyConfig } from './helpers.js';

const backends = await backendsUnderTest();

// What "learned" means per example: the final test metric at least this, the train loss
// at most this fraction of the first epoch's.
const EXPECT: Record<string, { metric: number; lossRatio: number }> = {
  spirals: { metric: 0.8, lossRatio: 0.6 }, // chance: 1/3
  mnist: { metric: 0.6, lossRatio: 0.6 }, // chance: 1/10
  batchnorm: { metric: 0.5, lossRatio: 0.7 }, // the batch-norm run; chance 1/10
  sequence: { metric: 0.7, lossRatio: 0.8 }, // chance: 1/4
  regression: { metric: 0.5, lossRatio: 0.5 }, // R²; predicting the mean gives 0
  tabular: { metric: 0.7, lossRatio: 0.8 }, // posWeight balances the classes: chance is 0.5
};

describe.each(backends)('examples on %s', (backend) => {
  for (const name of Object.keys(EXAMPLES)) {
    it(`${name} learns`, async () => {
      await selectBackend(backend);
      const before = held(); // not memory(): training awaits its reads
      const out = tempDir();
      const sink = captureSink();
      const res = await train({
        example: EXAMPLES[name],
        config: tinyConfig(name),
        backend,
        outDir: out,
        sink,
        noPictures: name !== 'spirals' && name !== 'regression',
      });
      const run = name === 'batchnorm' ? 'batchnorm' : Object.keys(res.final)[0];
      const mine = res.history.filter((h) => h.run === run);
      expect(mine.length).toBe(tinyConfig(name).epochs);
      const { metric, lossRatio } = EXPECT[name];
      expect(mine.at(-1)!.trainLoss).toBeLessThan(mine[0].trainLoss * lossRatio);
      expect(res.final[run].testMetric).toBeGreaterThan(metric);
      if (name === 'batchnorm') {
        // The effect the example shows: at this learning rate the plain network ends worse.
        const plain = res.history.filter((h) => h.run === 'plain');
        expect(plain.at(-1)!.trainLoss).toBeGreaterThan(mine.at(-1)!.trainLoss);
      }
      // Memory is flat: the same live tensors and bytes after every epoch.
      const first = res.memoryPerEpoch[0];
      for (const m of res.memoryPerEpoch) expect(m).toEqual(first);
      // ...and the run frees everything it made, its example's own tensors included (a tensor
      // left to the garbage collector counts here, whether the collector has released it or not).
      expect(held()).toEqual(before);
      // Progress without a terminal: one plain line per epoch and run, then the table.
      const text = sink.text();
      expect(text).not.toContain('\r');
      expect(text.split('\n').filter((l) => /epoch +\d+\/\d+ +loss/.test(l))).toHaveLength(
        res.history.length,
      );
      expect(text).toContain('train loss');
      expect(existsSync(join(out, 'checkpoint.json'))).toBe(true);
      if (name === 'spirals')
        for (const f of ['loss', 'accuracy', 'decision-boundary'])
          for (const ext of ['svg', 'png']) expect(res.files).toContain(join(out, `${f}.${ext}`));
      if (name === 'regression') expect(res.files).toContain(join(out, 'fit.png'));
      for (const f of res.files) expect(existsSync(f)).toBe(true);
    });
  }
});

// Steps are compiled by default; `eager: true` runs them op by op. Same numbers, bit for bit on
// cpu and wasm (webgpu's fused kernels may round differently: 1e-5 relative).
describe.each(backends)('compiled and eager runs agree on %s', (backend) => {
  for (const name of ['spirals', 'batchnorm', 'tabular']) {
    it(name, async () => {
      await selectBackend(backend);
      const run = async (eager: boolean) => {
        const res = await train({
          example: EXAMPLES[name],
          config: tinyConfig(name, { epochs: 2 }),
          backend,
          outDir: tempDir(),
          sink: captureSink(),
          noPictures: true,
          eager,
        });
        return res.history.flatMap((h) => [h.trainLoss, h.trainMetric, h.testLoss, h.testMetric]);
      };
      const eager = await run(true);
      const compiled = await run(false);
      if (backend === 'webgpu')
        for (const [i, v] of compiled.entries())
          expect(Math.abs(v - eager[i])).toBeLessThanOrEqual(1e-5 * Math.abs(eager[i]) + 1e-7);
      else expect(compiled).toEqual(eager);
    });
  }
});
