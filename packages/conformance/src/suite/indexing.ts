/** Index ops: gather (and its scatter-add adjoint), oneHot, concat, stack. */
import * as nb from '@nabla/core';
import { describe, it } from 'vitest';
import * as R from '../ref.js';
import { check, EXACT, LAYOUTS, toTensor } from './util.js';

/** Registers the indexing cases for the active backend. */
export function indexingSuite(): void {
  describe('indexing', () => {
    it('gather along each dim, strided input and index, float32 and int32', async () => {
      const r = R.rng(71);
      const x = R.randomRef(r, [3, 4, 5]);
      const xi = R.randomIntRef(r, [3, 4, 5], -50, 50);
      for (const dim of [0, 1, 2, -1]) {
        const d = (dim + 3) % 3;
        const shape = [...x.shape];
        shape[d] = 6; // more picks than the dim has: repeats are allowed
        const index = R.randomIntRef(r, shape, 0, x.shape[d] - 1);
        for (const layout of LAYOUTS) {
          await check(
            () => toTensor(x, { layout }).gather(dim, toTensor(index, { dtype: 'int32', layout })),
            R.gather(x, d, index),
            EXACT,
            `gather(${dim}) ${layout}`,
            'float32',
          );
        }
        await check(
          () => toTensor(xi, { dtype: 'int32' }).gather(dim, toTensor(index, { dtype: 'int32' })),
          R.gather(xi, d, index),
          EXACT,
          `gather(${dim}) int32`,
          'int32',
        );
      }
      await check(
        () => nb.gather(nb.ones([2, 3]), 1, nb.zeros([2, 0], { dtype: 'int32' })),
        R.ref([2, 0], []),
        EXACT,
        'gather of zero picks',
      );
    });

    it('gather backward scatters and adds repeated picks', async () => {
      const x = nb.tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { requiresGrad: true },
      );
      const idx = nb.tensor(
        [
          [0, 0, 2, 0],
          [1, 1, 1, 2],
        ],
        { dtype: 'int32' },
      );
      nb.tidy(() => x.gather(1, idx).sum().backward());
      await check(() => x.grad!.add(0), R.ref([2, 3], [3, 0, 1, 0, 3, 1]), EXACT, 'scatter-add');
      x.dispose();
      idx.dispose();
    });

    it('oneHot: shape [..., C], int32, explicit and inferred classes', async () => {
      const idx = R.ref([2, 3], [0, 2, 1, 3, 3, 0]);
      const expected = R.build([2, 3, 4], ([i, j, c]) => (R.at(idx, [i, j]) === c ? 1 : 0));
      await check(
        () => nb.oneHot(toTensor(idx, { dtype: 'int32', layout: 'transposed' }), 4),
        expected,
        EXACT,
        'oneHot',
        'int32',
      );
      await check(
        () => nb.oneHot(toTensor(idx, { dtype: 'int32' }), 5),
        R.build([2, 3, 5], ([i, j, c]) => (R.at(idx, [i, j]) === c ? 1 : 0)),
        EXACT,
        'oneHot 5',
        'int32',
      );
      await check(
        () => nb.oneHot(nb.zeros([0], { dtype: 'int32' }), 3),
        R.ref([0, 3], []),
        EXACT,
        'oneHot empty',
        'int32',
      );
    });

    it('concat along each dim, with zero-size parts and views; stack at each position', async () => {
      const r = R.rng(72);
      const a = R.randomRef(r, [2, 3, 4]);
      for (const dim of [0, 1, 2, -1]) {
        const d = (dim + 3) % 3;
        const sb = [...a.shape];
        sb[d] = 2;
        const sz = [...a.shape];
        sz[d] = 0;
        const b = R.randomRef(r, sb);
        const z = R.randomRef(r, sz);
        await check(
          () =>
            nb.concat(
              [toTensor(a, { layout: 'permuted' }), toTensor(z), toTensor(b, { layout: 'sliced' })],
              dim,
            ),
          R.concat([a, z, b], d),
          EXACT,
          `concat(${dim})`,
        );
      }
      const ai = R.randomIntRef(r, [2, 2], -9, 9);
      await check(
        () => nb.concat([toTensor(ai, { dtype: 'int32' }), toTensor(ai, { dtype: 'int32' })], 1),
        R.concat([ai, ai], 1),
        EXACT,
        'concat int32',
        'int32',
      );
      const parts = [R.randomRef(r, [3, 2]), R.randomRef(r, [3, 2]), R.randomRef(r, [3, 2])];
      for (const dim of [0, 1, 2, -1]) {
        const d = (dim + 3) % 3;
        const expanded = parts.map((p) => R.reshape(p, [...p.shape.slice(0, d), 1, ...p.shape.slice(d)]));
        await check(
          () =>
            nb.stack(
              parts.map((p) => toTensor(p, { layout: 'transposed' })),
              dim,
            ),
          R.concat(expanded, d),
          EXACT,
          `stack(${dim})`,
        );
      }
      await check(
        () => nb.stack([nb.tensor([1]).reshape([]), nb.tensor([2]).reshape([])]),
        R.ref([2], [1, 2]),
        EXACT,
        'stack scalars',
      );
    });
  });
}
