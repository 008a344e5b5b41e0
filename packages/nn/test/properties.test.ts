/**
 * Property tests over random shapes (fast-check): LayerNorm normalises every sample of any
 * shape over any number of trailing dims, cross-entropy on (N, C, d...) equals the same loss
 * on the flattened (N·d..., C) rows, and a DataLoader visits every sample once per epoch.
 */
import '@nabla/backend-cpu';
import { randint, randn, setBackend, tidy } from '@nabla/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, functional as F, LayerNorm, TensorDataset } from '../src/index.js';

beforeAll(() => setBackend('cpu'));

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

describe('properties (cpu)', () => {
  it('LayerNorm: each sample has mean 0 and biased variance ≈ 1 over the normalised dims', () => {
    fc.assert(
      fc.property(shapeArb, fc.nat(), (shape, k) => {
        const tail = shape.slice(shape.length - (1 + (k % shape.length)));
        const features = tail.reduce((a, b) => a * b, 1);
        fc.pre(features >= 2);
        tidy(() => {
          const eps = 1e-12;
          const x = randn(shape).mul(3).add(7);
          const y = new LayerNorm(tail, { eps }).forward(x);
          const rows = y.reshape([-1, features]);
          const mean = rows.mean(1).dataSync();
          const variance = rows.square().mean(1).dataSync();
          for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-5);
          // var(y) = var(x) / (var(x) + eps): 1 unless a sample's values (nearly) coincide, when
          // eps is not small next to their variance (two normal draws land that close now and then)
          const xs = x.reshape([-1, features]).dataSync();
          variance.forEach((v, r) => {
            const row = Array.from(xs.subarray(r * features, (r + 1) * features));
            const mu = row.reduce((a, b) => a + b, 0) / features;
            const varX = row.reduce((a, b) => a + (b - mu) ** 2, 0) / features;
            expect(Math.abs(v - varX / (varX + eps))).toBeLessThan(1e-4);
          });
        });
      }),
      { numRuns: 40 },
    );
  });

  it('cross-entropy on (N, C, d...) equals the flattened rows', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: 1, max: 4 }), (spatial, classes) => {
        tidy(() => {
          const n = spatial[0];
          const rest = spatial.slice(1);
          const logits = randn([n, classes, ...rest]);
          const targets = randint(0, classes, [n, ...rest], { dtype: 'int32' });
          const a = F.crossEntropy(logits, targets, { reduction: 'none' });
          const order = [0, ...rest.map((_, i) => i + 2), 1];
          const b = F.crossEntropy(logits.permute(order).reshape([-1, classes]), targets.reshape([-1]), {
            reduction: 'none',
          });
          expect(a.shape).toEqual([n, ...rest]);
          expect([...a.dataSync()]).toEqual([...b.dataSync()]);
        });
      }),
      { numRuns: 30 },
    );
  });

  it('DataLoader: every sample exactly once per epoch, batch sizes as configured', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        fc.boolean(),
        (n, batchSize, shuffle, dropLast) => {
          const ids = randn([n]);
          const values = [...ids.dataSync()];
          const loader = new DataLoader(new TensorDataset(ids), { batchSize, shuffle, dropLast, seed: n });
          const seen: number[] = [];
          let batches = 0;
          for (const [b] of loader) {
            batches++;
            expect(b.shape[0] === batchSize || (!dropLast && b.shape[0] === n % batchSize)).toBe(true);
            seen.push(...b.dataSync());
          }
          expect(batches).toBe(loader.length);
          const expected = dropLast ? Math.floor(n / batchSize) * batchSize : n;
          expect(seen.length).toBe(expected);
          if (!dropLast) expect([...seen].sort()).toEqual([...values].sort());
          ids.dispose();
        },
      ),
      { numRuns: 60 },
    );
  });
});
