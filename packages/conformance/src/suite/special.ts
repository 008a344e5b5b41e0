/** Special values (NaN, ±Infinity), zero-size inputs to composite ops, and sizes large enough for parallel paths. */
import * as nb from '@nabla/core';
import { describe, expect, it } from 'vitest';
import * as R from '../ref.js';
import { check, EXACT, LOOSE, type Tol, toTensor } from './util.js';

const { NaN: nan, POSITIVE_INFINITY: inf } = Number;

/** Registers the special-value and large-size cases for the active backend. */
export function specialSuite(): void {
  describe('special values', () => {
    it('NaN propagates through unary, arithmetic, maximum/minimum and reductions', async () => {
      const x = R.ref([4], [nan, 1, -inf, inf]);
      const elementwise: [string, (t: nb.Tensor) => nb.Tensor, (v: number) => number, Tol][] = [
        ['exp', (t) => t.exp(), Math.exp, LOOSE],
        ['neg', (t) => t.neg(), (v) => -v, EXACT],
        ['abs', (t) => t.abs(), Math.abs, EXACT],
        ['tanh', (t) => t.tanh(), Math.tanh, LOOSE],
        ['sigmoid', (t) => t.sigmoid(), (v) => 1 / (1 + Math.exp(-v)), LOOSE],
        ['relu', (t) => t.relu(), (v) => (Number.isNaN(v) ? v : Math.max(v, 0)), EXACT],
        ['add', (t) => t.add(1), (v) => v + 1, EXACT],
        ['maximum', (t) => t.maximum(0), (v) => Math.max(v, 0), EXACT],
        ['minimum', (t) => t.minimum(0), (v) => Math.min(v, 0), EXACT],
      ];
      for (const [what, op, ref, tol] of elementwise)
        await check(() => op(toTensor(x)), R.map(x, ref), tol, what);
      await check(() => toTensor(x).sum(), R.ref([], [nan]), EXACT, 'sum');
      await check(() => toTensor(x).max(), R.ref([], [nan]), EXACT, 'max');
      await check(() => toTensor(x).min(), R.ref([], [nan]), EXACT, 'min');
    });

    it('pow with negative bases and integer exponents, 0^0, and out-of-domain inputs', async () => {
      const base = R.ref([7], [-2, -2, -2, -0.5, 0, 0, 3]);
      const expo = R.ref([7], [2, 3, -1, 2, 0, 2, 0.5]);
      await check(
        () => toTensor(base).pow(toTensor(expo)),
        R.zip(base, expo, (a, b) => a ** b),
        LOOSE,
        'pow',
      );
      await check(
        () => toTensor(base).pow(2),
        R.map(base, (a) => a ** 2),
        LOOSE,
        'pow(x, 2)',
      );
      await check(
        () => nb.tensor([-2]).pow(0.5),
        R.ref([1], [nan]),
        EXACT,
        'pow of a negative base to a fraction',
      );
      await check(() => nb.tensor([-1]).sqrt(), R.ref([1], [nan]), EXACT, 'sqrt(-1)');
      await check(() => nb.tensor([-1]).log(), R.ref([1], [nan]), EXACT, 'log(-1)');
      await check(() => nb.tensor([0]).rsqrt(), R.ref([1], [inf]), EXACT, 'rsqrt(0)');
    });

    it('comparisons with NaN are false except ne', async () => {
      const x = R.ref([2], [nan, 1]);
      for (const [op, f] of [
        ['eq', (a: number) => a === 1],
        ['ne', (a: number) => a !== 1],
        ['lt', (a: number) => a < 1],
        ['ge', (a: number) => a >= 1],
      ] as const) {
        await check(
          () => toTensor(x)[op](1),
          R.map(x, (v) => (f(v) ? 1 : 0)),
          EXACT,
          `${op} with NaN`,
          'int32',
        );
      }
    });

    it('infinities: sum, max, softmax of -inf entries', async () => {
      await check(() => nb.tensor([inf, 1]).sum(), R.ref([], [inf]), EXACT, 'sum inf');
      await check(() => nb.tensor([-inf, -inf]).max(), R.ref([], [-inf]), EXACT, 'max of -inf');
      await check(
        () => nb.tensor([0, -inf, 0]).softmax(0),
        R.ref([3], [0.5, 0, 0.5]),
        LOOSE,
        'softmax with -inf (masked) logits',
      );
      await check(
        () =>
          nb.logSumExp(
            nb.tensor([
              [-inf, -inf],
              [inf, 1],
              [0, -inf],
            ]),
            1,
          ),
        R.ref([3], [-inf, inf, 0]),
        EXACT,
        'logSumExp of infinite rows',
      );
    });
  });

  describe('zero-size inputs to composite ops', () => {
    it('softmax, logSoftmax, var, softmaxCrossEntropy, linear with zero rows', async () => {
      await check(() => nb.zeros([0, 3]).softmax(1), R.ref([0, 3], []), EXACT, 'softmax rows 0');
      await check(() => nb.zeros([0, 3]).logSoftmax(-1), R.ref([0, 3], []), EXACT, 'logSoftmax rows 0');
      await check(() => nb.zeros([0, 3]).var(1), R.ref([0], []), EXACT, 'var rows 0');
      await check(
        () => nb.softmaxCrossEntropy(nb.zeros([0, 4]), nb.zeros([0], { dtype: 'int32' })),
        R.ref([0], []),
        EXACT,
        'softmaxCrossEntropy rows 0',
      );
      await check(
        () => nb.linear(nb.zeros([2, 0]), nb.zeros([3, 0]), nb.ones([3])),
        R.ref([2, 3], [1, 1, 1, 1, 1, 1]),
        EXACT,
        'linear with in=0',
      );
    });

    it('backward through zero-size tensors gives zero-size gradients', async () => {
      const x = nb.zeros([0, 3], { requiresGrad: true });
      nb.tidy(() => x.exp().sum().add(1).backward());
      expect(x.grad!.shape).toEqual([0, 3]);
      x.dispose();
    });
  });

  describe('larger sizes (parallel and tiled paths)', () => {
    it('elementwise with broadcasting over 2^17 elements', async () => {
      const r = R.rng(91);
      const a = R.randomRef(r, [256, 512]);
      const b = R.randomRef(r, [512]);
      await check(
        () =>
          toTensor(a)
            .mul(toTensor(b))
            .add(toTensor(a, { layout: 'transposed' })),
        R.zip(
          R.zip(a, b, (p, q) => p * q),
          a,
          (p, q) => p + q,
        ),
        EXACT,
        'mul-add 256x512',
      );
    });

    it('reductions over long rows and columns', async () => {
      const a = R.randomRef(R.rng(92), [300, 500]);
      const tol = { rtol: 1e-4, atol: 1e-3 };
      await check(() => toTensor(a).sum(0), R.reduce(a, 0, false, R.reducers.sum), tol, 'sum(0)');
      await check(() => toTensor(a).sum(1), R.reduce(a, 1, false, R.reducers.sum), tol, 'sum(1)');
      await check(() => toTensor(a).sum(), R.reduce(a, undefined, false, R.reducers.sum), tol, 'sum()');
      await check(() => toTensor(a).max(0), R.reduce(a, 0, false, R.reducers.max), EXACT, 'max(0)');
      await check(() => toTensor(a).argmin(1), R.reduce(a, 1, false, R.reducers.argmin), EXACT, 'argmin(1)');
      await check(() => toTensor(a).softmax(1), R.softmax(a, 1), { rtol: 1e-4, atol: 1e-6 }, 'softmax(1)');
    });

    it('matmul 128x96x160 and a batched 8x33x47x29', async () => {
      const r = R.rng(93);
      const a = R.randomRef(r, [128, 96]);
      const b = R.randomRef(r, [96, 160]);
      await check(
        () => toTensor(a).matmul(toTensor(b)),
        R.matmul(a, b),
        { rtol: 1e-4, atol: 1e-4 },
        'matmul 128x96x160',
      );
      const c = R.randomRef(r, [8, 33, 47]);
      const d = R.randomRef(r, [8, 47, 29]);
      await check(
        () => toTensor(c).matmul(toTensor(d, { layout: 'transposed' })),
        R.matmul(c, d),
        { rtol: 1e-4, atol: 1e-4 },
        'batched matmul',
      );
    });
  });
}
