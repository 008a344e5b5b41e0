/** Elementwise kernels and ops: unary, binary with broadcasting, where, clamp, casts. */

import type { DType, Tensor } from '@nabla/core';
import * as nb from '@nabla/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as R from '../ref.js';
import { check, EXACT, LAYOUTS, LOOSE, type Tol, toTensor } from './util.js';

/** Shapes every elementwise op runs on: scalars, size-0 and size-1 dims, ranks 1–3. */
export const EDGE_SHAPES: readonly number[][] = [[], [1], [5], [0], [3, 4], [1, 4], [2, 0, 3], [2, 3, 4]];

interface UnarySpec {
  name: string;
  run: (x: Tensor) => Tensor;
  ref: (x: number) => number;
  lo: number;
  hi: number;
  tol: Tol;
  /** Also checked on int32 input. */
  int?: boolean;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const UNARY: readonly UnarySpec[] = [
  { name: 'neg', run: (x) => x.neg(), ref: (x) => -x, lo: -3, hi: 3, tol: EXACT, int: true },
  { name: 'abs', run: (x) => x.abs(), ref: Math.abs, lo: -3, hi: 3, tol: EXACT, int: true },
  { name: 'sign', run: (x) => x.sign(), ref: Math.sign, lo: -3, hi: 3, tol: EXACT, int: true },
  { name: 'square', run: (x) => x.square(), ref: (x) => x * x, lo: -3, hi: 3, tol: EXACT, int: true },
  { name: 'relu', run: (x) => x.relu(), ref: (x) => Math.max(x, 0), lo: -3, hi: 3, tol: EXACT, int: true },
  { name: 'exp', run: (x) => x.exp(), ref: Math.exp, lo: -5, hi: 5, tol: LOOSE },
  { name: 'log', run: (x) => x.log(), ref: Math.log, lo: 0.01, hi: 50, tol: LOOSE },
  { name: 'sqrt', run: (x) => x.sqrt(), ref: Math.sqrt, lo: 0, hi: 50, tol: LOOSE },
  { name: 'rsqrt', run: (x) => x.rsqrt(), ref: (x) => 1 / Math.sqrt(x), lo: 0.01, hi: 50, tol: LOOSE },
  { name: 'sigmoid', run: (x) => x.sigmoid(), ref: sigmoid, lo: -12, hi: 12, tol: LOOSE },
  { name: 'tanh', run: (x) => x.tanh(), ref: Math.tanh, lo: -6, hi: 6, tol: LOOSE },
  { name: 'reciprocal', run: (x) => x.reciprocal(), ref: (x) => 1 / x, lo: 0.1, hi: 5, tol: LOOSE },
];

interface BinarySpec {
  name: string;
  run: (a: Tensor, b: Tensor | number) => Tensor;
  ref: (a: number, b: number) => number;
  /** Operand ranges; integer-valued draws make ties (for comparisons, maximum, minimum). */
  a: [number, number];
  b: [number, number];
  tol: Tol;
  int?: boolean;
  compare?: boolean;
}

/**
 * A binary op that is exact on float32 and int32 alike (checked on both), its operands drawn from
 * `[-range, range]`.
 */
function exactBinary(
  name: 'add' | 'sub' | 'mul' | 'maximum' | 'minimum',
  ref: (a: number, b: number) => number,
  range: number,
): BinarySpec {
  return {
    name,
    run: (a, b) => a[name](b),
    ref,
    a: [-range, range],
    b: [-range, range],
    tol: EXACT,
    int: true,
  };
}

const BINARY: readonly BinarySpec[] = [
  exactBinary('add', (a, b) => a + b, 5),
  exactBinary('sub', (a, b) => a - b, 5),
  exactBinary('mul', (a, b) => a * b, 5),
  { name: 'div', run: (a, b) => a.div(b), ref: (a, b) => a / b, a: [-5, 5], b: [0.5, 4], tol: EXACT },
  { name: 'pow', run: (a, b) => a.pow(b), ref: (a, b) => a ** b, a: [0.2, 3], b: [-2, 2], tol: LOOSE },
  exactBinary('maximum', Math.max, 3),
  exactBinary('minimum', Math.min, 3),
  ...(
    [
      ['eq', (a: number, b: number) => a === b],
      ['ne', (a: number, b: number) => a !== b],
      ['lt', (a: number, b: number) => a < b],
      ['le', (a: number, b: number) => a <= b],
      ['gt', (a: number, b: number) => a > b],
      ['ge', (a: number, b: number) => a >= b],
    ] as const
  ).map(([name, f]) => ({
    name,
    run: (a: Tensor, b: Tensor | number) => (a[name] as (o: Tensor | number) => Tensor)(b),
    ref: (a: number, b: number) => (f(a, b) ? 1 : 0),
    a: [-2, 2] as [number, number],
    b: [-2, 2] as [number, number],
    tol: EXACT,
    int: true,
    compare: true,
  })),
];

/** Broadcast pairs: equal, trailing, both-sided, rank-extending, scalar and zero-size. */
export const BROADCAST_PAIRS: readonly [number[], number[]][] = [
  [
    [3, 4],
    [3, 4],
  ],
  [[3, 4], [4]],
  [
    [3, 1],
    [1, 4],
  ],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [[], [2, 3]],
  [[2, 3], []],
  [
    [0, 3],
    [1, 3],
  ],
  [[1], [0]],
  [[1, 1], [1]],
];

/** Comparison operands are drawn as integers so ties occur; others as floats. */
function draw(r: () => number, shape: readonly number[], [lo, hi]: [number, number], ints: boolean): R.Ref {
  return ints ? R.randomIntRef(r, shape, Math.ceil(lo), Math.floor(hi)) : R.randomRef(r, shape, lo, hi);
}

/** Registers the elementwise cases for the active backend. */
export function elementwiseSuite(): void {
  describe('unary', () => {
    for (const op of UNARY) {
      it(`${op.name}: values over edge shapes and non-contiguous layouts`, async () => {
        const r = R.rng(11);
        for (const shape of EDGE_SHAPES) {
          const x = R.randomRef(r, shape, op.lo, op.hi);
          for (const layout of LAYOUTS) {
            await check(
              () => op.run(toTensor(x, { layout })),
              R.map(x, op.ref),
              op.tol,
              `${op.name} [${shape}] ${layout}`,
              'float32',
            );
          }
        }
      });
      if (op.int) {
        it(`${op.name}: int32`, async () => {
          const x = R.randomIntRef(R.rng(12), [3, 5], -4, 4);
          for (const layout of LAYOUTS) {
            await check(
              () => op.run(toTensor(x, { dtype: 'int32', layout })),
              R.map(x, op.ref),
              EXACT,
              `${op.name} int32 ${layout}`,
              'int32',
            );
          }
        });
      }
    }
  });

  describe('binary', () => {
    for (const op of BINARY) {
      const outDtype = (d: DType): DType => (op.compare ? 'int32' : d);
      it(`${op.name}: broadcasting, scalars and non-contiguous layouts`, async () => {
        const r = R.rng(21);
        const ints = op.compare === true || op.name === 'maximum' || op.name === 'minimum';
        for (const [sa, sb] of BROADCAST_PAIRS) {
          const a = draw(r, sa, op.a, ints);
          const b = draw(r, sb, op.b, ints);
          for (const layout of LAYOUTS) {
            await check(
              () =>
                op.run(
                  toTensor(a, { layout }),
                  toTensor(b, { layout: layout === 'sliced' ? 'transposed' : 'sliced' }),
                ),
              R.zip(a, b, op.ref),
              op.tol,
              `${op.name} [${sa}]·[${sb}] ${layout}`,
              outDtype('float32'),
            );
          }
          // Both operands as explicit stride-0 (expanded) views of the result's shape.
          const full = R.broadcastShape(sa, sb)!;
          await check(
            () => op.run(toTensor(a).expand(full), toTensor(b, { layout: 'sliced' }).expand(full)),
            R.zip(a, b, op.ref),
            op.tol,
            `${op.name} [${sa}]·[${sb}] expanded to [${full}]`,
            outDtype('float32'),
          );
        }
        const a = draw(r, [2, 3], op.a, ints);
        const s = Math.fround(ints ? 1 : (op.b[0] + op.b[1]) / 2 + 0.25);
        await check(
          () => op.run(toTensor(a), s),
          R.map(a, (v) => op.ref(v, s)),
          op.tol,
          `${op.name} tensor·number`,
          outDtype('float32'),
        );
      });
      if (op.int) {
        it(`${op.name}: int32 with broadcasting`, async () => {
          const r = R.rng(22);
          const a = R.randomIntRef(r, [3, 4], -4, 4);
          const b = R.randomIntRef(r, [4], -4, 4);
          await check(
            () =>
              op.run(toTensor(a, { dtype: 'int32', layout: 'transposed' }), toTensor(b, { dtype: 'int32' })),
            R.zip(a, b, op.ref),
            EXACT,
            `${op.name} int32`,
            'int32',
          );
          await check(
            () => op.run(toTensor(a, { dtype: 'int32' }), 2),
            R.map(a, (v) => op.ref(v, 2)),
            EXACT,
            `${op.name} int32·number`,
            'int32',
          );
        });
      }
    }

    it('broadcasting is exact for random shape pairs (property)', async () => {
      // A base shape, then each operand drops leading dims and turns some dims to 1.
      const pair = fc
        .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 })
        .chain((base) =>
          fc.tuple(
            fc.constant(base),
            fc.nat({ max: base.length }),
            fc.nat({ max: base.length }),
            fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
            fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
            fc.integer({ min: 1, max: 1000 }),
          ),
        );
      await fc.assert(
        fc.asyncProperty(pair, async ([base, dropA, dropB, onesA, onesB, seed]) => {
          const sa = base.map((d, i) => (onesA[i] ? 1 : d)).slice(dropA);
          const sb = base.map((d, i) => (onesB[i] ? 1 : d)).slice(dropB);
          const r = R.rng(seed);
          const a = R.randomRef(r, sa);
          const b = R.randomRef(r, sb);
          const expected = R.zip(a, b, (x, y) => x * y + x);
          expect(R.broadcastShape(sa, sb)).toEqual(expected.shape);
          await check(
            () =>
              toTensor(a)
                .mul(toTensor(b, { layout: 'permuted' }))
                .add(toTensor(a)),
            expected,
            EXACT,
            `mul-add [${sa}]·[${sb}]`,
          );
        }),
        { numRuns: 25, seed: 7 },
      );
    });

    it('shapes that do not broadcast throw naming both shapes and the op (property)', () => {
      const arb = fc
        .tuple(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 2 }))
        .filter(([x, y]) => x !== y);
      fc.assert(
        fc.property(arb, ([x, y, lead]) => {
          const sa = [...Array(lead).fill(2), x];
          const sb = [y];
          nb.tidy(() => {
            const a = nb.zeros(sa);
            const b = nb.zeros(sb);
            expect(() => a.sub(b)).toThrow(
              `sub: shapes [${sa.join(', ')}] and [${sb.join(', ')}] cannot be broadcast`,
            );
          });
        }),
        { numRuns: 15, seed: 3 },
      );
    });
  });

  describe('where, clamp, casts', () => {
    it('where broadcasts condition and both branches, tensors and numbers', async () => {
      const r = R.rng(31);
      const c = R.randomIntRef(r, [3, 1], 0, 1);
      const a = R.randomRef(r, [1, 4]);
      const b = R.randomRef(r, [3, 4]);
      await check(
        () => nb.where(toTensor(c, { dtype: 'int32' }), toTensor(a), toTensor(b, { layout: 'transposed' })),
        R.select(c, a, b),
        EXACT,
        'where',
      );
      await check(
        () => nb.where(toTensor(c, { dtype: 'int32' }), toTensor(a), -1),
        R.select(c, a, R.ref([], [-1])),
        EXACT,
        'where(t, n)',
      );
      const ci = R.randomIntRef(r, [2, 3], -2, 2); // any nonzero is true
      const ai = R.randomIntRef(r, [2, 3], -9, 9);
      await check(
        () => nb.where(toTensor(ci, { dtype: 'int32' }), toTensor(ai, { dtype: 'int32' }), 5),
        R.select(ci, ai, R.ref([], [5])),
        EXACT,
        'where int32',
        'int32',
      );
      await check(
        () => nb.where(nb.zeros([0, 2], { dtype: 'int32' }), nb.ones([2]), 0),
        R.ref([0, 2], []),
        EXACT,
        'where zero-size',
      );
      await check(
        () => nb.where(toTensor(c, { dtype: 'int32' }), 1, -0.5),
        R.select(c, R.ref([], [1]), R.ref([], [-0.5])),
        EXACT,
        'where(c, n, n)',
        'float32',
      );
    });

    it('clamp with both bounds, one bound, on views', async () => {
      const x = R.randomRef(R.rng(32), [4, 5], -3, 3);
      await check(
        () => toTensor(x, { layout: 'transposed' }).clamp(-1, 1.5),
        R.map(x, (v) => Math.min(Math.max(v, -1), 1.5)),
        EXACT,
        'clamp',
      );
      await check(
        () => toTensor(x).clamp(0),
        R.map(x, (v) => Math.max(v, 0)),
        EXACT,
        'clamp min',
      );
      await check(
        () => toTensor(x).clamp(null, 0.5),
        R.map(x, (v) => Math.min(v, 0.5)),
        EXACT,
        'clamp max',
      );
    });

    it('float() and int() convert; int() truncates toward zero', async () => {
      const x = R.ref([6], [-2.7, -0.5, 0, 0.5, 2.7, 100.99]);
      await check(() => toTensor(x).int(), R.map(x, Math.trunc), EXACT, 'int()', 'int32');
      const i = R.randomIntRef(R.rng(33), [2, 3], -50, 50);
      await check(
        () => toTensor(i, { dtype: 'int32', layout: 'transposed' }).float(),
        i,
        EXACT,
        'float()',
        'float32',
      );
    });

    it('large and special values: exp overflow, log of 0, division by 0', async () => {
      await check(
        () => nb.tensor([100, -100]).exp(),
        R.ref([2], [Number.POSITIVE_INFINITY, 0]),
        LOOSE,
        'exp overflow',
      );
      await check(() => nb.tensor([0]).log(), R.ref([1], [Number.NEGATIVE_INFINITY]), EXACT, 'log(0)');
      await check(
        () => nb.tensor([1, -1]).div(0),
        R.ref([2], [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]),
        EXACT,
        'x/0',
      );
      await check(
        () => nb.tensor([-30, 30]).sigmoid(),
        R.ref([2], [sigmoid(-30), 1]),
        { rtol: 1e-3, atol: 1e-7 },
        'sigmoid tails',
      );
    });
  });
}
