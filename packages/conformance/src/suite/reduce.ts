/** Reductions: sum, mean, max, min, argmax, argmin, var, std, logSumExp, softmax. */

import type { Tensor } from '@nabla/core';
import * as nb from '@nabla/core';
import { describe, expect, it } from 'vitest';
import * as R from '../ref.js';
import { check, EXACT, LAYOUTS, LOOSE, toTensor } from './util.js';

type Axes = number | number[] | undefined;

/** Axis choices on a rank-3 input: all, one, negative, a block, a non-adjacent pair. */
const AXES: readonly Axes[] = [undefined, 0, 1, -1, [0, 1], [1, 2], [0, 2], [0, 1, 2]];

const ACC = { rtol: 1e-5, atol: 1e-5 };

/** Registers the reduction cases for the active backend. */
export function reduceSuite(): void {
  describe('reductions', () => {
    const ops = [
      { name: 'sum', run: (x: Tensor, a: Axes, k: boolean) => x.sum(a, k), f: R.reducers.sum },
      { name: 'mean', run: (x: Tensor, a: Axes, k: boolean) => x.mean(a, k), f: R.reducers.mean },
      { name: 'max', run: (x: Tensor, a: Axes, k: boolean) => x.max(a, k), f: R.reducers.max },
      { name: 'min', run: (x: Tensor, a: Axes, k: boolean) => x.min(a, k), f: R.reducers.min },
    ];
    for (const op of ops) {
      it(`${op.name}: every axis choice, keepDim, non-contiguous input`, async () => {
        const x = R.randomRef(R.rng(41), [3, 4, 5]);
        for (const axes of AXES) {
          for (const keepDim of [false, true]) {
            for (const layout of LAYOUTS) {
              await check(
                () => op.run(toTensor(x, { layout }), axes, keepDim),
                R.reduce(x, axes, keepDim, op.f),
                ACC,
                `${op.name}(${JSON.stringify(axes)}, ${keepDim}) ${layout}`,
                'float32',
              );
            }
          }
        }
      });
      it(`${op.name}: scalars, size-1 dims, longer rows`, async () => {
        const r = R.rng(42);
        const s = R.randomRef(r, []);
        await check(() => op.run(toTensor(s), undefined, false), s, EXACT, `${op.name} of a scalar`);
        for (const dim of [0, -1]) {
          await check(() => op.run(toTensor(s), dim, true), s, EXACT, `${op.name}(${dim}) of a scalar`);
        }
        const one = R.randomRef(r, [1, 7, 1]);
        await check(
          () => op.run(toTensor(one), 1, true),
          R.reduce(one, 1, true, op.f),
          ACC,
          `${op.name} [1,7,1]`,
        );
        const long = R.randomRef(r, [3, 1000]);
        await check(
          () => op.run(toTensor(long), -1, false),
          R.reduce(long, -1, false, op.f),
          { rtol: 1e-4, atol: 1e-4 },
          `${op.name} rows of 1000`,
        );
        // Columns of a batch (an axis of 8 to 64 with inner > 1): the unrolled loops' strides.
        const batch = R.randomRef(r, [64, 3, 5]);
        for (const rows of [9, 64]) {
          const part = R.build([rows, 3, 5], (ix) => R.at(batch, ix));
          await check(
            () => op.run(toTensor(part), 0, false),
            R.reduce(part, 0, false, op.f),
            { rtol: 1e-4, atol: 1e-4 },
            `${op.name} columns over ${rows} rows`,
          );
        }
      });
    }

    it('sum and max/min on int32', async () => {
      const x = R.randomIntRef(R.rng(43), [4, 6], -100, 100);
      for (const [name, f] of [
        ['sum', R.reducers.sum],
        ['max', R.reducers.max],
        ['min', R.reducers.min],
      ] as const) {
        for (const axes of [undefined, 0, 1] as Axes[]) {
          await check(
            () => (toTensor(x, { dtype: 'int32', layout: 'transposed' })[name] as (a: Axes) => Tensor)(axes),
            R.reduce(x, axes, false, f),
            EXACT,
            `${name} int32 ${axes}`,
            'int32',
          );
        }
      }
    });

    it('zero-size: sum gives zeros, sum over a non-empty axis keeps an empty result, max throws', async () => {
      await check(() => nb.zeros([0, 3]).sum(0), R.ref([3], [0, 0, 0]), EXACT, 'sum over size 0');
      await check(() => nb.zeros([0, 3]).sum(), R.ref([], [0]), EXACT, 'sum of empty');
      await check(() => nb.zeros([0, 3]).sum(1), R.ref([0], []), EXACT, 'sum keeps empty');
      await check(
        () => nb.zeros([2, 0]).sum(1, true),
        R.ref([2, 1], [0, 0]),
        EXACT,
        'sum keepDim over size 0',
      );
      nb.tidy(() => {
        expect(() => nb.zeros([0, 3]).max(0)).toThrow(
          'max: cannot reduce over a zero-size dimension (input shape [0, 3])',
        );
      });
    });

    it('argmax/argmin: each axis, flattened, first index on ties, int32 output', async () => {
      const r = R.rng(44);
      const x = R.randomIntRef(r, [3, 4, 5], -2, 2); // many ties
      for (const [name, f] of [
        ['argmax', R.reducers.argmax],
        ['argmin', R.reducers.argmin],
      ] as const) {
        for (const axis of [0, 1, 2, -1]) {
          for (const layout of LAYOUTS) {
            await check(
              () => toTensor(x, { layout })[name](axis),
              R.reduce(x, axis, false, f),
              EXACT,
              `${name}(${axis}) ${layout}`,
              'int32',
            );
          }
        }
        await check(
          () => toTensor(x)[name](1, true),
          R.reduce(x, 1, true, f),
          EXACT,
          `${name} keepDim`,
          'int32',
        );
        await check(() => nb.full([], 4)[name](0), R.ref([], [0]), EXACT, `${name}(0) of a scalar`, 'int32');
        await check(
          () => toTensor(x, { layout: 'permuted' })[name](),
          R.ref([], [f([...x.data])]),
          EXACT,
          `${name} flat`,
          'int32',
        );
      }
    });

    it('var and std: correction 0 and 1, axes, keepDim', async () => {
      const x = R.randomRef(R.rng(45), [3, 4, 5]);
      for (const correction of [0, 1]) {
        for (const axes of [undefined, 1, [0, 2]] as Axes[]) {
          for (const keepDim of [false, true]) {
            const v = R.reduce(x, axes, keepDim, R.reducers.variance(correction));
            await check(
              () => toTensor(x, { layout: 'permuted' }).var(axes, { correction, keepDim }),
              v,
              ACC,
              `var c=${correction} ${axes} ${keepDim}`,
            );
            await check(
              () => toTensor(x).std(axes, { correction, keepDim }),
              R.map(v, Math.sqrt),
              ACC,
              `std c=${correction} ${axes}`,
            );
          }
        }
      }
      // default correction is 1 (unbiased)
      await check(() => nb.tensor([1, 2, 3, 4]).var(), R.ref([], [5 / 3]), EXACT, 'var default');
      // a large offset must not cancel (two-pass)
      const big = R.map(R.randomRef(R.rng(46), [64]), (v) => Math.fround(1e4 + v));
      await check(
        () => toTensor(big).var(0, { correction: 0 }),
        R.reduce(big, 0, false, R.reducers.variance(0)),
        { rtol: 1e-3, atol: 1e-4 },
        'var with offset 1e4',
      );
    });

    it('softmax, logSoftmax, logSumExp along each dim, stable for large logits', async () => {
      const x = R.randomRef(R.rng(47), [3, 4, 5], -4, 4);
      for (const dim of [0, 1, 2, -1]) {
        const d = (dim + 3) % 3;
        for (const layout of ['contiguous', 'permuted'] as const) {
          await check(
            () => toTensor(x, { layout }).softmax(dim),
            R.softmax(x, d),
            LOOSE,
            `softmax(${dim}) ${layout}`,
          );
          await check(
            () => toTensor(x, { layout }).logSoftmax(dim),
            R.logSoftmax(x, d),
            LOOSE,
            `logSoftmax(${dim}) ${layout}`,
          );
        }
        await check(
          () => nb.logSumExp(toTensor(x), dim),
          R.reduce(x, d, false, (xs) => Math.log(xs.reduce((s, v) => s + Math.exp(v), 0))),
          LOOSE,
          `logSumExp(${dim})`,
        );
      }
      await check(() => nb.full([], 3).softmax(0), R.ref([], [1]), EXACT, 'softmax of a scalar');
      await check(() => nb.full([], 3).logSoftmax(-1), R.ref([], [0]), EXACT, 'logSoftmax of a scalar');
      const huge = R.map(R.randomRef(R.rng(48), [2, 6], -3, 3), (v) => Math.fround(v + 1000));
      await check(() => toTensor(huge).softmax(1), R.softmax(huge, 1), LOOSE, 'softmax of logits near 1000');
      await check(
        () => toTensor(huge).logSoftmax(-1),
        R.logSoftmax(huge, 1),
        { rtol: 1e-4, atol: 1e-3 },
        'logSoftmax near 1000',
      );
    });
  });
}
