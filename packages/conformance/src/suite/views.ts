/** Shape ops and views, read back through every kernel path that accepts strided input. */
import * as nb from '@nabla/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as R from '../ref.js';
import { check, EXACT, LAYOUTS, toTensor } from './util.js';

/** Registers the view and shape cases for the active backend. */
export function viewsSuite(): void {
  describe('views and shapes', () => {
    const x = R.randomRef(R.rng(61), [2, 3, 4]);

    it('reshape, view, flatten (with -1) over contiguous and strided inputs', async () => {
      for (const layout of LAYOUTS) {
        await check(
          () => toTensor(x, { layout }).reshape([4, -1]),
          R.reshape(x, [4, 6]),
          EXACT,
          `reshape ${layout}`,
        );
        await check(() => toTensor(x, { layout }).flatten(), R.reshape(x, [24]), EXACT, `flatten ${layout}`);
        await check(
          () => toTensor(x, { layout }).flatten(1),
          R.reshape(x, [2, 12]),
          EXACT,
          `flatten(1) ${layout}`,
        );
        await check(
          () => toTensor(x, { layout }).flatten(0, 1),
          R.reshape(x, [6, 4]),
          EXACT,
          `flatten(0,1) ${layout}`,
        );
      }
      await check(() => toTensor(x).view([6, 4]), R.reshape(x, [6, 4]), EXACT, 'view');
      await check(() => nb.tensor([5]).reshape([]), R.ref([], [5]), EXACT, 'reshape to scalar');
      await check(
        () => nb.zeros([0, 3]).reshape([3, 0, 2]),
        R.ref([3, 0, 2], []),
        EXACT,
        'reshape zero-size',
      );
    });

    it('transpose, t(), permute, chained views', async () => {
      for (const layout of LAYOUTS) {
        await check(
          () => toTensor(x, { layout }).transpose(0, 2),
          R.transpose(x, 0, 2),
          EXACT,
          `transpose ${layout}`,
        );
        await check(
          () => toTensor(x, { layout }).permute([1, 2, 0]),
          R.permute(x, [1, 2, 0]),
          EXACT,
          `permute ${layout}`,
        );
      }
      const m = R.randomRef(R.rng(62), [3, 5]);
      await check(() => toTensor(m).t(), R.transpose(m, 0, 1), EXACT, 't()');
      await check(
        () => toTensor(x).permute([2, 0, 1]).slice(0, 1, 3).transpose(1, 2).reshape([2, -1]),
        R.reshape(R.transpose(R.slice(R.permute(x, [2, 0, 1]), 0, 1, 3), 1, 2), [2, 6]),
        EXACT,
        'chain',
      );
    });

    it('expand, squeeze, unsqueeze', async () => {
      const col = R.randomRef(R.rng(63), [3, 1]);
      await check(() => toTensor(col).expand([2, 3, 4]), R.expand(col, [2, 3, 4]), EXACT, 'expand');
      await check(() => toTensor(col).expand([-1, 5]), R.expand(col, [3, 5]), EXACT, 'expand -1');
      await check(() => toTensor(col).expand([3, 0]), R.ref([3, 0], []), EXACT, 'expand to 0');
      await check(
        () => toTensor(col).expand([2, 3, 4]).exp(),
        R.map(R.expand(col, [2, 3, 4]), Math.exp),
        { rtol: 1e-4, atol: 1e-6 },
        'unary on expanded',
      );
      const y = R.randomRef(R.rng(64), [1, 3, 1, 2]);
      await check(() => toTensor(y).squeeze(), R.reshape(y, [3, 2]), EXACT, 'squeeze()');
      await check(() => toTensor(y).squeeze(2), R.reshape(y, [1, 3, 2]), EXACT, 'squeeze(2)');
      await check(() => toTensor(y).squeeze(1), y, EXACT, 'squeeze of a non-1 dim is a no-op');
      await check(
        () => toTensor(y, { layout: 'permuted' }).unsqueeze(-1),
        R.reshape(y, [1, 3, 1, 2, 1]),
        EXACT,
        'unsqueeze(-1)',
      );
      await check(() => toTensor(y).unsqueeze(0), R.reshape(y, [1, 1, 3, 1, 2]), EXACT, 'unsqueeze(0)');
      await check(() => nb.tensor([3]).reshape([]).unsqueeze(0), R.ref([1], [3]), EXACT, 'unsqueeze scalar');
    });

    it('slice with negative and out-of-range bounds, on every dim', async () => {
      for (const layout of LAYOUTS) {
        await check(
          () => toTensor(x, { layout }).slice(1, 1),
          R.slice(x, 1, 1, 3),
          EXACT,
          `slice(1,1) ${layout}`,
        );
        await check(
          () => toTensor(x, { layout }).slice(2, -3, -1),
          R.slice(x, 2, 1, 3),
          EXACT,
          `slice(2,-3,-1) ${layout}`,
        );
        await check(() => toTensor(x, { layout }).slice(0, -10, 10), x, EXACT, `slice clamps ${layout}`);
        await check(
          () => toTensor(x, { layout }).slice(2, 3, 1),
          R.slice(x, 2, 3, 3),
          EXACT,
          `empty slice ${layout}`,
        );
      }
    });

    it('clone and contiguous copy; assign writes in place', async () => {
      const t = nb.tidy(() => toTensor(x, { layout: 'permuted' }).contiguous());
      const c = t.clone();
      c.assign(nb.zeros([2, 3, 4]));
      await check(() => t.add(0), x, EXACT, 'source unchanged after clone.assign');
      await check(
        () => c.add(0),
        R.map(x, () => 0),
        EXACT,
        'assign zeros',
      );
      c.assign(toTensor(x, { layout: 'transposed' }));
      await check(() => c.add(0), x, EXACT, 'assign from a view');
      c.assign(nb.tensor([1, 2, 3, 4]));
      await check(() => c.add(0), R.expand(R.ref([4], [1, 2, 3, 4]), [2, 3, 4]), EXACT, 'assign broadcasts');
      t.dispose();
      c.dispose();
    });

    it('random view chains read back correctly (property)', async () => {
      const ops = fc.array(fc.constantFrom('t', 'perm', 'slice', 'unsq', 'flat'), {
        minLength: 1,
        maxLength: 5,
      });
      await fc.assert(
        fc.asyncProperty(ops, fc.integer({ min: 1, max: 999 }), async (chain, seed) => {
          let ref = R.randomRef(R.rng(seed), [3, 4, 2]);
          const steps: ((t: nb.Tensor) => nb.Tensor)[] = [];
          for (const op of chain) {
            const r = ref.shape.length;
            if (op === 't') {
              ref = R.transpose(ref, 0, r - 1);
              steps.push((t) => t.transpose(0, r - 1));
            } else if (op === 'perm') {
              const dims = ref.shape.map((_, i) => (i + 1) % r);
              ref = R.permute(ref, dims);
              steps.push((t) => t.permute(dims));
            } else if (op === 'slice') {
              const n = ref.shape[0];
              ref = R.slice(ref, 0, n > 1 ? 1 : 0, n);
              steps.push((t) => t.slice(0, n > 1 ? 1 : 0, n));
            } else if (op === 'unsq') {
              ref = R.reshape(ref, [1, ...ref.shape]);
              steps.push((t) => t.unsqueeze(0));
            } else {
              // reshape to 2D copies non-contiguous data; later steps then run on fresh memory
              const rows = ref.shape[0];
              const cols = R.sizeOf(ref.shape) / rows;
              ref = R.reshape(ref, [rows, cols]);
              steps.push((t) => t.reshape([rows, -1]));
            }
          }
          const expected = ref;
          await check(
            () => steps.reduce((t, f) => f(t), toTensor(R.randomRef(R.rng(seed), [3, 4, 2]))).mul(2),
            R.map(expected, (v) => 2 * v),
            EXACT,
            `chain ${chain}`,
          );
        }),
        { numRuns: 30, seed: 5 },
      );
    });

    it('view() refuses non-contiguous input', () => {
      nb.tidy(() => {
        expect(() => nb.zeros([2, 3]).t().view([6])).toThrow('view: size and stride are not compatible');
      });
    });
  });
}
