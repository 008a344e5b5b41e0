/**
 * Pointwise programs (kernels as data) against core's reference evaluator (`evaluateAt`):
 * every unary and binary function of the expression language, select and cast, position
 * (`E.index`) along every axis, over strided, broadcast, non-contiguous, empty and size-1
 * inputs; several outputs; in-place updates; and random small expression trees (property). A backend's renderer passes here or nowhere.
 */
import {
  BINARY_FNS,
  type BinaryFn,
  type DType,
  E,
  type Expr,
  evaluateAt,
  FLOAT_ONLY_FNS,
  type PointwiseProgram,
  pointwise,
  pointwiseInto,
  pointwiseProgram,
  tidy,
  UNARY_FNS,
  type UnaryFn,
} from '@nabla/core';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as R from '../ref.js';
import { assertClose, EXACT, type Layout, LOOSE, type Tol, toTensor } from './util.js';

/** Correctly rounded (or exact) in IEEE float32; the rest are approximations on some devices. */
const EXACT_FNS = new Set<string>(['neg', 'abs', 'sign', 'floor', 'add', 'sub', 'mul', 'div', 'max', 'min']);
const tolOf = (fn: string): Tol => (EXACT_FNS.has(fn) ? EXACT : LOOSE);

/** Shapes: scalar, size-1, empty, vector, matrix, rank 3. */
const SHAPES: readonly number[][] = [[], [1], [0], [5], [3, 4], [2, 3, 2]];
const LAYOUTS: readonly Layout[] = ['contiguous', 'transposed', 'sliced'];

/** Float32 (or int32) values as the device stores them. */
function stored(r: R.Ref, dtype: DType): R.Ref {
  return R.ref(
    r.shape,
    Array.from(r.data, (v) => (dtype === 'int32' ? v | 0 : Math.fround(v))),
  );
}

/** Core's reference: the program at every position of the inputs' broadcast shape. */
function reference(program: PointwiseProgram, inputs: readonly R.Ref[], scalars: readonly number[]): R.Ref[] {
  let shape: number[] = [];
  for (const x of inputs) shape = R.broadcastShape(shape, x.shape)!;
  const outs = program.outputs.map(() => [] as number[]);
  const values: number[] = [];
  const results: number[] = [];
  for (let i = 0; i < R.sizeOf(shape); i++) {
    const idx = R.unravel(i, shape);
    evaluateAt(
      program,
      (k) => R.atBroadcast(inputs[k], idx),
      scalars,
      values,
      results,
      (d) => idx[d],
    );
    results.forEach((v, j) => {
      outs[j].push(v);
    });
  }
  return outs.map((data) => R.ref(shape, data));
}

/** Runs the program on the active backend and checks every output against the reference. */
async function expectProgram(
  program: PointwiseProgram,
  inputs: readonly { ref: R.Ref; layout?: Layout; expand?: number[] }[],
  scalars: readonly number[],
  tol: Tol,
  label: string,
): Promise<void> {
  const refs = inputs.map((x, k) => stored(x.ref, program.inputs[k]));
  const expected = reference(program, refs, scalars);
  const outs = tidy(() =>
    pointwise(
      program,
      refs.map((r, k) => {
        const t = toTensor(r, { dtype: program.inputs[k], layout: inputs[k].layout });
        return inputs[k].expand ? t.expand(inputs[k].expand!) : t;
      }),
      scalars,
    ),
  );
  try {
    for (let j = 0; j < outs.length; j++) {
      const out = outs[j];
      const want = expected[j];
      if (out.shape.length !== want.shape.length || out.shape.some((d, i) => d !== want.shape[i]))
        throw new Error(`${label}: output ${j} has shape [${out.shape}], expected [${want.shape}]`);
      if (out.dtype !== program.outputDtypes[j])
        throw new Error(`${label}: output ${j} is ${out.dtype}, expected ${program.outputDtypes[j]}`);
      assertClose(await out.data(), want.data, tol, `${label} output ${j}`);
    }
  } finally {
    for (const o of outs) o.dispose();
  }
}

const unaryProgram = (fn: UnaryFn, dtype: DType) =>
  pointwiseProgram(`conf-${fn}`, {
    inputs: [dtype],
    outputs: [(E[fn] as (x: Expr) => Expr)(E.input(0, dtype))],
  });

const binaryProgram = (fn: BinaryFn, dtype: DType) =>
  pointwiseProgram(`conf-${fn}`, {
    inputs: [dtype, dtype],
    outputs: [E[fn](E.input(0, dtype), E.input(1, dtype))],
  });

// ---- random expression trees ----------------------------------------------------------

/**
 * Small float32 trees over three inputs, two scalars and constants. Steps that jump (floor,
 * comparisons, casts to int32) and fast-growing functions see only leaves, so an approximation
 * or a fused multiply-add in one backend cannot flip a branch; the rest nest freely.
 */
function exprTree(): fc.Arbitrary<Expr> {
  const leaf = fc.oneof(
    fc.integer({ min: 0, max: 2 }).map((k) => E.input(k)),
    fc.integer({ min: 0, max: 1 }).map((k) => E.scalar(k)),
    fc.constantFrom(0, 1, -0.5, 2.25).map((v) => E.const(v)),
  );
  const atom = fc.oneof(
    leaf,
    fc
      .tuple(fc.constantFrom<UnaryFn>('exp', 'tanh', 'erf', 'floor', 'sign', 'abs', 'neg', 'log1p'), leaf)
      .map(([fn, x]) => (fn === 'log1p' ? E.log1p(E.abs(x)) : (E[fn] as (x: Expr) => Expr)(x))),
    leaf.map((x) => E.sqrt(E.abs(x))),
    leaf.map((x) => E.cast(E.cast(x, 'int32'), 'float32')),
  );
  const cond = fc
    .tuple(fc.constantFrom<BinaryFn>('eq', 'ne', 'lt', 'le', 'gt', 'ge'), leaf, leaf)
    .map(([fn, a, b]) => E[fn](a, b));
  const { node } = fc.letrec<{ node: Expr }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      atom,
      fc
        .tuple(fc.constantFrom<BinaryFn>('add', 'sub', 'mul', 'max', 'min'), tie('node'), tie('node'))
        .map(([fn, a, b]) => E[fn](a, b)),
      tie('node').map((x) => E.neg(x)),
      fc.tuple(cond, tie('node'), tie('node')).map(([c, a, b]) => E.select(c, a, b)),
    ),
  }));
  return node;
}

/** Registers the pointwise cases for the active backend. */
export function pointwiseSuite(): void {
  describe('pointwise programs against the reference evaluator', () => {
    it('every unary function over scalar, size-1, empty and strided inputs', async () => {
      const r = R.rng(41);
      for (const fn of UNARY_FNS) {
        const dtypes: DType[] = FLOAT_ONLY_FNS.has(fn) ? ['float32'] : ['float32', 'int32'];
        for (const dtype of dtypes) {
          const program = unaryProgram(fn, dtype);
          for (const shape of SHAPES) {
            const x = dtype === 'int32' ? R.randomIntRef(r, shape, -5, 5) : R.randomRef(r, shape, -3, 3);
            for (const layout of LAYOUTS)
              await expectProgram(
                program,
                [{ ref: x, layout }],
                [],
                tolOf(fn),
                `${fn} ${dtype} [${shape}] ${layout}`,
              );
          }
        }
      }
    });

    it('every binary function with broadcasting, expanded and non-contiguous operands', async () => {
      const r = R.rng(42);
      const pairs: [number[], number[]][] = [
        [
          [3, 4],
          [3, 4],
        ],
        [
          [3, 1],
          [1, 4],
        ],
        [[2, 3, 1], [4]],
        [[], [2, 3]],
        [
          [0, 3],
          [1, 3],
        ],
        [[1], [1]],
      ];
      for (const fn of BINARY_FNS) {
        const dtypes: DType[] = FLOAT_ONLY_FNS.has(fn) ? ['float32'] : ['float32', 'int32'];
        for (const dtype of dtypes) {
          const program = binaryProgram(fn, dtype);
          for (const [sa, sb] of pairs) {
            // Integer-valued draws make ties (comparisons, max, min); pow gets a positive base.
            const a =
              dtype === 'int32' || fn !== 'pow' ? R.randomIntRef(r, sa, -3, 3) : R.randomRef(r, sa, 0.1, 3);
            const b = dtype === 'int32' ? R.randomIntRef(r, sb, -3, 3) : R.randomRef(r, sb, -2, 2);
            const label = `${fn} ${dtype} [${sa}]·[${sb}]`;
            await expectProgram(
              program,
              [
                { ref: a, layout: 'transposed' },
                { ref: b, layout: 'sliced' },
              ],
              [],
              tolOf(fn),
              label,
            );
            const full = R.broadcastShape(sa, sb)!;
            await expectProgram(
              program,
              [
                { ref: a, expand: full },
                { ref: R.expand(b, full), layout: 'permuted' },
              ],
              [],
              tolOf(fn),
              `${label} expanded`,
            );
          }
        }
      }
    });

    it('special values: NaN, ±inf, ±0 through every float function', async () => {
      const specials = R.ref(
        [8],
        [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1, -1, 0.5],
      );
      for (const fn of UNARY_FNS)
        await expectProgram(unaryProgram(fn, 'float32'), [{ ref: specials }], [], LOOSE, fn);
      const pairs = R.build([8, 8], ([i]) => specials.data[i]);
      const other = R.build([8, 8], ([, j]) => specials.data[j]);
      for (const fn of BINARY_FNS)
        await expectProgram(
          binaryProgram(fn, 'float32'),
          [{ ref: pairs }, { ref: other }],
          [],
          LOOSE,
          `${fn} specials`,
        );
    });

    it('select and cast: int32 conditions, per-call scalars of both dtypes, truncation toward zero', async () => {
      const r = R.rng(43);
      const cond = R.randomIntRef(r, [3, 1], -1, 1);
      const a = R.randomRef(r, [1, 4], -9, 9);
      const b = R.randomRef(r, [3, 4], -9, 9);
      const select = pointwiseProgram('conf-select', {
        inputs: ['int32', 'float32', 'float32'],
        scalars: ['float32', 'int32'],
        outputs: [
          E.select(E.input(0, 'int32'), E.input(1), E.mul(E.input(2), E.scalar(0))),
          E.cast(E.input(1), 'int32'),
          E.add(E.cast(E.input(0, 'int32'), 'float32'), E.cast(E.scalar(1, 'int32'), 'float32')),
        ],
      });
      for (const layout of ['contiguous', 'transposed'] as const)
        await expectProgram(
          select,
          [{ ref: cond }, { ref: a }, { ref: b, layout }],
          [0.37, -7],
          EXACT,
          `select/cast ${layout}`,
        );
      const ints = pointwiseProgram('conf-int-select', {
        inputs: ['int32', 'int32'],
        scalars: ['int32'],
        outputs: [E.select(E.gt(E.input(0, 'int32'), E.scalar(0, 'int32')), E.input(1, 'int32'), 5)],
      });
      await expectProgram(
        ints,
        [{ ref: R.randomIntRef(r, [2, 3], -4, 4) }, { ref: R.randomIntRef(r, [3], -9, 9) }],
        [1],
        EXACT,
        'int32 select',
      );
    });

    it('E.index: the coordinate along each axis, ranks 1 to 4, broadcast, strided, size-0 and size-1 dims', async () => {
      const r = R.rng(45);
      // [shape of input 0, shape of input 1]: the call runs over their broadcast
      const cases: [number[], number[]][] = [
        [[5], [5]],
        [[1], [1]],
        [[0], [1]],
        [[3, 4], [4]],
        [
          [3, 1],
          [1, 4],
        ],
        [
          [1, 4],
          [3, 1],
        ],
        [
          [2, 3, 4],
          [3, 1],
        ],
        [
          [2, 1, 4],
          [1, 3, 1],
        ],
        [[2, 0, 3], [3]],
        [
          [2, 3, 1, 5],
          [2, 1, 4, 1],
        ],
        [[1, 1, 1, 3], [1]],
      ];
      for (const [sa, sb] of cases) {
        const rank = R.broadcastShape(sa, sb)!.length;
        for (let axis = 0; axis < rank; axis++) {
          // the position alone, as an output; mixed with inputs (a float and an int32 use)
          const program = pointwiseProgram(`conf-index${axis}`, {
            inputs: ['float32', 'int32'],
            outputs: [
              E.index(axis),
              E.mul(E.input(0), E.cast(E.add(E.index(axis), 1), 'float32')),
              E.select(E.eq(E.input(1, 'int32'), E.index(axis)), E.index(rank - 1), -1),
            ],
          });
          const a = R.randomRef(r, sa, -3, 3);
          const b = R.randomIntRef(r, sb, 0, 3);
          for (const layout of ['contiguous', 'transposed', 'permuted', 'sliced'] as const) {
            await expectProgram(
              program,
              [
                { ref: a, layout },
                { ref: b, layout: layout === 'contiguous' ? 'contiguous' : 'sliced' },
              ],
              [],
              EXACT,
              `index(${axis}) [${sa}]·[${sb}] ${layout}`,
            );
          }
          const full = R.broadcastShape(sa, sb)!;
          await expectProgram(
            program,
            [
              { ref: a, expand: full },
              { ref: R.expand(b, full), layout: 'permuted' },
            ],
            [],
            EXACT,
            `index(${axis}) [${sa}]·[${sb}] expanded`,
          );
        }
      }
      // Large enough for the backends' blocked and threaded paths: positions across block edges.
      const big = pointwiseProgram('conf-index-big', {
        inputs: ['float32'],
        outputs: [E.add(E.index(0), E.mul(E.index(1), 1000)), E.index(2)],
      });
      await expectProgram(big, [{ ref: R.randomRef(r, [7, 37, 301]) }], [], EXACT, 'index [7, 37, 301]');
      await expectProgram(
        big,
        [{ ref: R.randomRef(r, [7, 301, 37]), layout: 'transposed' }],
        [],
        EXACT,
        'index transposed [7, 37, 301]',
      );
    });

    it('several outputs from one pass, and in place into an input read whole', async () => {
      const r = R.rng(44);
      const p = R.randomRef(r, [4, 5]);
      const g = R.randomRef(r, [4, 5]);
      const m = R.randomRef(r, [5]);
      const step = pointwiseProgram('conf-step', {
        inputs: ['float32', 'float32', 'float32'],
        scalars: ['float32'],
        outputs: [
          E.sub(E.input(0), E.mul(E.scalar(0), E.add(E.input(1), E.input(2)))),
          E.mul(E.input(0), E.input(0)),
          E.gt(E.input(1), 0),
        ],
      });
      await expectProgram(
        step,
        [{ ref: p }, { ref: g, layout: 'transposed' }, { ref: m }],
        [0.1],
        EXACT,
        'multi',
      );
      // In place: output 0 overwrites input 0; output 1 must still see the old values.
      const stepInPlace = pointwiseProgram('conf-step-inplace', {
        inputs: ['float32', 'float32'],
        scalars: ['float32'],
        outputs: [E.sub(E.input(0), E.mul(E.scalar(0), E.input(1))), E.mul(E.input(0), E.input(1))],
      });
      const refs = [stored(p, 'float32'), stored(g, 'float32')];
      const [newP, prod] = reference(stepInPlace, refs, [0.5]);
      const param = toTensor(refs[0]);
      const grad = toTensor(refs[1], { layout: 'transposed' });
      const product = toTensor(R.ref([4, 5], new Array(20).fill(0)));
      try {
        pointwiseInto(stepInPlace, [param, grad], [0.5], [param, product]);
        assertClose(await param.data(), newP.data, EXACT, 'in place: param');
        assertClose(await product.data(), prod.data, EXACT, 'in place: second output reads the old param');
      } finally {
        for (const t of [param, grad, product]) t.dispose();
      }
    });

    it('random small expression trees match the reference (property)', async () => {
      const shapes: number[][][] = [
        [[2, 3], [3], [2, 1]],
        [[4], [4], []],
        [
          [1, 3],
          [2, 1],
          [2, 3],
        ],
      ];
      await fc.assert(
        fc.asyncProperty(
          exprTree(),
          exprTree(),
          fc.nat({ max: shapes.length - 1 }),
          fc.constantFrom<Layout>('contiguous', 'transposed', 'sliced'),
          fc.integer({ min: 1, max: 10_000 }),
          async (e0, e1, which, layout, seed) => {
            const r = R.rng(seed);
            const program = pointwiseProgram('conf-random', {
              inputs: ['float32', 'float32', 'float32'],
              scalars: ['float32', 'float32'],
              outputs: [e0, e1],
            });
            const inputs = shapes[which].map((s) => ({ ref: R.randomRef(r, s, -2, 2), layout }));
            await expectProgram(
              program,
              inputs,
              [r() * 4 - 2, 0.75],
              { rtol: 1e-3, atol: 1e-3 },
              program.key,
            );
          },
        ),
        { numRuns: 25, seed: 13 },
      );
    });
  });
}
