/**
 * reshape without a copy where the strides allow it, as PyTorch decides: the strides match
 * PyTorch's `view` on transposed, permuted, expanded and sliced tensors, the values match a
 * copy's, and a view shares its storage (so the copy kernel is not run).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '@nabla/backend-cpu';
import * as nb from '@nabla/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { viewStrides } from '../src/shape.js';

interface Case {
  source: string;
  shape: number[];
  strides: number[];
  target: number[];
  viewStrides: number[] | null;
}
const fixture: { cases: Case[] } = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'view-strides.json'), 'utf8'),
);

beforeAll(async () => {
  await nb.setBackend('cpu');
});

describe('viewStrides', () => {
  it.each(
    fixture.cases.map((c) => [`${c.source} as [${c.target.join(', ')}]`, c] as const),
  )('%s: as PyTorch', (_name, c) => {
    expect(viewStrides(c.shape, c.strides, c.target)).toEqual(c.viewStrides);
  });

  it('covers views and copies', () => {
    expect(fixture.cases.filter((c) => c.viewStrides === null).length).toBeGreaterThan(5);
    expect(
      fixture.cases.filter((c) => c.viewStrides !== null && c.source !== 'contiguous [4, 6, 5]').length,
    ).toBeGreaterThan(20);
  });
});

/** A random tensor seen through a random view: permuted, maybe narrowed along its last dim, maybe expanded. */
const arbView = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
    seed: fc.nat(1000),
    narrow: fc.integer({ min: 1, max: 2 }),
    expand: fc.integer({ min: 1, max: 3 }),
  })
  .chain((r) =>
    fc.record({
      ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fc.constant(v)])),
      order: fc.shuffledSubarray(
        r.shape.map((_, i) => i),
        { minLength: r.shape.length, maxLength: r.shape.length },
      ),
    }),
  ) as fc.Arbitrary<{ shape: number[]; seed: number; narrow: number; expand: number; order: number[] }>;

function makeView(r: { shape: number[]; seed: number; narrow: number; expand: number; order: number[] }) {
  nb.manualSeed(r.seed);
  let x = nb.randn(r.shape).permute(r.order);
  const last = x.rank - 1;
  if (r.narrow > 1 && x.shape[last] > 1) x = x.slice(last, 1);
  if (r.expand > 1) x = x.unsqueeze(0).expand([r.expand, ...x.shape]);
  return x;
}

/** The target shapes of `size` elements with up to four dims, from its factors. */
function targetsOf(size: number): number[][] {
  const out: number[][] = [[size]];
  for (let a = 1; a <= size; a++) {
    if (size % a) continue;
    out.push([a, size / a]);
    for (let b = 1; b <= size / a; b++) if ((size / a) % b === 0) out.push([a, b, size / a / b]);
  }
  return out;
}

describe('reshape', () => {
  it('gives the values of a copy, and shares storage exactly when viewStrides allows', () => {
    const seen = { views: 0, copies: 0 };
    fc.assert(
      fc.property(arbView, fc.nat(), (r, pick) =>
        nb.tidy(() => {
          const x = makeView(r);
          const targets = targetsOf(x.size);
          const target = targets[pick % targets.length];
          const out = x.reshape(target);
          expect([...out.dataSync()]).toEqual([...x.contiguous().reshape(target).dataSync()]);
          const shared = out.storageFor('test') === x.storageFor('test');
          expect(shared).toBe(viewStrides(x.shape, x.strides, target) !== null);
          seen[shared ? 'views' : 'copies']++;
        }),
      ),
      { numRuns: 200 },
    );
    // non-contiguous sources reshaped both ways
    expect(seen.views).toBeGreaterThan(20);
    expect(seen.copies).toBeGreaterThan(20);
  });

  it('of an expanded gradient is a view: no copy kernel runs', () => {
    nb.tidy(() => {
      const g = nb.tensor(2).expand([32]);
      const counter = nb.countBackendCalls(nb.getBackend());
      try {
        const column = g.reshape([32, 1]);
        expect(column.strides).toEqual([0, 0]);
        expect(counter.snapshot().kernels).toBe(0);
      } finally {
        counter.stop();
      }
    });
  });

  it('of a transposed view carries gradients back through the view', () => {
    const w = nb.tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3], requiresGrad: true });
    const t = w.t(); // [3, 2], strides [1, 3]
    const y = t
      .reshape([3, 2, 1])
      .mul(nb.tensor([10, 20, 30, 40, 50, 60], { shape: [3, 2, 1] }))
      .sum();
    y.backward();
    // d/dw[i, j] = factor at t[j, i]
    expect([...w.grad!.dataSync()]).toEqual([10, 30, 50, 20, 40, 60]);
  });

  it('view refuses what needs a copy, naming shape and strides', () => {
    expect(() => nb.zeros([2, 3]).t().view([6])).toThrow(
      'view: size and stride are not compatible with the input (shape [3, 2], strides [1, 3]',
    );
    expect(nb.zeros([2, 3]).t().view([3, 2, 1]).shape).toEqual([3, 2, 1]);
  });
});
