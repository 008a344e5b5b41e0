/** Checkpoints: resuming equals never stopping, eval-only reproduces the metrics, writes are atomic, seeds determine runs. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendsUnderTest } from '@nabla/conformance';
import { decodeSafetensors } from '@nabla/interop';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends.js';
import { loadCheckpoint } from '../src/checkpoint.js';
import { main } from '../src/cli.js';
import { EXAMPLES } from '../src/examples/index.js';
import { train } from '../src/train.js';
import { captureSink, tempDir, tinyConfig } from './helpers.js';

const backends = await backendsUnderTest();

describe.each(backends)('checkpoints on %s', (backend) => {
  // spirals has BatchNorm running statistics, Adam state and a cosine schedule: all must survive.
  const config = tinyConfig('spirals', { epochs: 4, data: { perClass: 60 } });
  const run = (outDir: string, extra: object = {}) =>
    train({
      example: EXAMPLES.spirals,
      config,
      backend,
      outDir,
      sink: captureSink(),
      noPictures: true,
      ...extra,
    });

  it('--resume gives the same losses as an uninterrupted run', async () => {
    await selectBackend(backend);
    const whole = await run(tempDir());
    const dir = tempDir();
    const first = await run(dir, { interruptAfter: 2 });
    expect(first.history).toHaveLength(2);
    const ck = loadCheckpoint(join(dir, 'checkpoint.json'));
    expect(ck.epoch).toBe(2);
    const rest = await run(dir, { resumeFrom: ck });
    const losses = (h: typeof whole.history) =>
      h.map((r) => [r.trainLoss, r.testLoss, r.trainMetric, r.testMetric, r.lr]);
    expect(losses(rest.history)).toEqual(losses(whole.history));
    // No temporary file is left next to the checkpoint and the final weights.
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'model.safetensors']);
  });

  it('a finished run writes its weights as safetensors with PyTorch names, equal to the checkpoint', async () => {
    await selectBackend(backend);
    const dir = tempDir();
    const result = await run(dir, { config: { ...config, epochs: 2 } });
    expect(result.files).toContain(join(dir, 'model.safetensors'));
    const weights = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    const saved = loadCheckpoint(join(dir, 'checkpoint.json')).runs.mlp.model;
    expect([...weights.tensors.keys()].sort()).toEqual(Object.keys(saved).sort());
    // BatchNorm's step counter is int64 in PyTorch, and so on disk.
    expect(weights.tensors.get('1.num_batches_tracked')?.dtype).toBe('I64');
    for (const [name, t] of weights.tensors) {
      const { shape, data } = saved[name].$tensor;
      expect(t.shape, name).toEqual(shape);
      expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64'), name).toBe(
        data,
      );
    }
  });

  it('the same seed gives the same run; another seed a different one', async () => {
    await selectBackend(backend);
    const a = await run(tempDir(), { config: { ...config, epochs: 2 } });
    const b = await run(tempDir(), { config: { ...config, epochs: 2 } });
    const c = await run(tempDir(), { config: { ...config, epochs: 2, seed: 5 } });
    expect(b.history.map((h) => h.trainLoss)).toEqual(a.history.map((h) => h.trainLoss));
    expect(c.history.map((h) => h.trainLoss)).not.toEqual(a.history.map((h) => h.trainLoss));
  });
});

describe('CLI with checkpoints (cpu)', () => {
  it('trains, then --eval-only reports the final test metrics of the checkpoint', async () => {
    const cwd = tempDir();
    const cfg = join(cwd, 'tiny.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cfg, JSON.stringify({ epochs: 3, data: { samples: 200 } }));
    const io = () => {
      const out = captureSink();
      const errs: string[] = [];
      return { io: { env: {}, cwd, out, err: (s: string) => void errs.push(s) }, out, errs };
    };
    const a = io();
    const trained = await main(['regression', '--backend', 'cpu', '--config', cfg, '--out', 'run'], a.io);
    expect(trained.code).toBe(0);
    expect(a.out.text()).toContain('wrote 8 files to run/');
    expect(a.out.text()).toContain('run/fit.png');
    const b = io();
    const evaluated = await main(
      ['--resume', 'run/checkpoint.json', '--eval-only', '--backend', 'cpu'],
      b.io,
    );
    expect(evaluated.code).toBe(0);
    expect(evaluated.result!.final.mlp.testLoss).toBeCloseTo(trained.result!.final.mlp.testLoss, 6);
    expect(b.out.text()).toMatch(
      /mlp: test loss [\d.]+ +test R² [\d.]+ +\(\d+ samples, checkpoint after epoch 3\)/,
    );
  });

  it('a missing, truncated or foreign checkpoint is a clear error', async () => {
    const cwd = tempDir();
    const errs: string[] = [];
    const io = { env: {}, cwd, out: captureSink(), err: (s: string) => void errs.push(s) };
    expect((await main(['--resume', 'nope.json', '--eval-only'], io)).code).toBe(2);
    expect(errs.join('')).toContain(`checkpoint ${join(cwd, 'nope.json')} does not exist`);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(cwd, 'cut.json'), '{"format": "nabla-checkpoint", "runs": {"mlp": ');
    expect((await main(['--resume', 'cut.json'], io)).code).toBe(2);
    expect(errs.join('')).toContain(`cannot read checkpoint ${join(cwd, 'cut.json')}`);
    writeFileSync(join(cwd, 'other.json'), '{"weights": []}');
    expect((await main(['--resume', 'other.json'], io)).code).toBe(2);
    expect(errs.join('')).toContain(`${join(cwd, 'other.json')} is not a Nabla checkpoint`);
  });
});
