/** Matrix products: 1D, 2D, batched with broadcasting, transposed and sliced operands, edge sizes. */
import * as nb from '@nabla/core';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as R from '../ref.js';
import { check, type Layout, toTensor } from './util.js';

const TOL = { rtol: 1e-5, atol: 1e-5 };

/** Operand shape pairs with PyTorch's matmul rules. */
const PAIRS: readonly [number[], number[]][] = [
  [[3], [3]],
  [[2, 3], [3]],
  [[3], [3, 4]],
  [
    [1, 1],
    [1, 1],
  ],
  [
    [2, 3],
    [3, 4],
  ],
  [
    [2, 2, 3],
    [3, 4],
  ],
  [[3], [2, 3, 4]],
  [
    [2, 1, 2, 3],
    [3, 3, 2],
  ],
  [
    [1, 2, 3],
    [4, 3, 5],
  ],
  [
    [2, 0],
    [0, 3],
  ],
  [
    [0, 3],
    [3, 2],
  ],
  [
    [2, 3],
    [3, 0],
  ],
  [
    [0, 2, 3],
    [3, 4],
  ],
];

/** Registers the matmul cases for the active backend. */
export function matmulSuite(): void {
  describe('matmul', () => {
    it('1D, 2D and batched shapes with broadcasting and zero sizes', async () => {
      const r = R.rng(51);
      for (const [sa, sb] of PAIRS) {
        const a = R.randomRef(r, sa);
        const b = R.randomRef(r, sb);
        await check(
          () => toTensor(a).matmul(toTensor(b)),
          R.matmul(a, b),
          TOL,
          `matmul [${sa}]·[${sb}]`,
          'float32',
        );
      }
    });

    it('transposed, permuted and sliced operands (zero-copy and copied paths)', async () => {
      const r = R.rng(52);
      const layouts: Layout[] = ['contiguous', 'transposed', 'permuted', 'sliced'];
      for (const [sa, sb] of [
        [
          [5, 7],
          [7, 6],
        ],
        [
          [2, 5, 7],
          [2, 7, 6],
        ],
        [
          [3, 4, 5],
          [5, 2],
        ],
      ] as const) {
        const a = R.randomRef(r, sa);
        const b = R.randomRef(r, sb);
        for (const la of layouts) {
          for (const lb of layouts) {
            await check(
              () => toTensor(a, { layout: la }).matmul(toTensor(b, { layout: lb })),
              R.matmul(a, b),
              TOL,
              `matmul [${sa}] ${la} · [${sb}] ${lb}`,
            );
          }
        }
      }
      // An expanded (stride-0) batch operand.
      const a = R.randomRef(r, [1, 3, 4]);
      const b = R.randomRef(r, [2, 4, 5]);
      await check(
        () => toTensor(a).expand([2, 3, 4]).matmul(toTensor(b)),
        R.matmul(R.expand(a, [2, 3, 4]), b),
        TOL,
        'matmul expanded batch',
      );
      await check(
        () => nb.matmul(toTensor(b).transpose(1, 2), toTensor(a).expand([2, 3, 4]).transpose(1, 2)),
        R.matmul(R.transpose(b, 1, 2), R.transpose(R.expand(a, [2, 3, 4]), 1, 2)),
        TOL,
        'matmul both transposed batched',
      );
    });

    it('random batch broadcasts and operand layouts (property)', async () => {
      const dim = fc.integer({ min: 1, max: 4 });
      const batch = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 });
      const layout = fc.constantFrom<Layout>('contiguous', 'transposed', 'permuted', 'sliced');
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(batch, fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), fc.nat(2), dim, dim, dim),
          layout,
          layout,
          fc.integer({ min: 1, max: 9999 }),
          async ([b, ones, drop, m, k, n], la, lb, seed) => {
            // b's batch dims, some set to 1 on one side, and possibly fewer dims on the other.
            const ba = b.map((d, i) => (ones[i] ? 1 : d));
            const bb = b.slice(Math.min(drop, b.length));
            const r = R.rng(seed);
            const a = R.randomRef(r, [...ba, m, k]);
            const c = R.randomRef(r, [...bb, k, n]);
            await check(
              () => toTensor(a, { layout: la }).matmul(toTensor(c, { layout: lb })),
              R.matmul(a, c),
              TOL,
              `matmul [${a.shape}] ${la} · [${c.shape}] ${lb}`,
            );
          },
        ),
        { numRuns: 40, seed: 11 },
      );
    });

    it('sizes that cross blocking edges', async () => {
      const r = R.rng(53);
      for (const [m, k, n] of [
        [17, 33, 19],
        [1, 65, 64],
        [64, 1, 65],
        [65, 70, 67],
      ]) {
        const a = R.randomRef(r, [m, k]);
        const b = R.randomRef(r, [k, n]);
        await check(
          () => toTensor(a).matmul(toTensor(b)),
          R.matmul(a, b),
          { rtol: 1e-4, atol: 1e-4 },
          `matmul ${m}x${k}x${n}`,
        );
      }
    });
  });
}
