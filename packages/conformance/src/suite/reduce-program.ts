/**
 * Reductions of pointwise programs (`reduceProgram`: core's `ReduceArgs.input`/`.epilogue`)
 * against core's reference evaluator: the program at every position of the broadcast shape,
 * reduced in float64 and rounded to its dtype, then the epilogue at every output position.
 * Broadcast and non-contiguous inputs, int32 inputs, every axis choice, empty axes, and bad
 * calls that must fail alike everywhere.
 */
import {
  type DType,
  E,
  evaluateAt,
  type PointwiseProgram,
  pointwiseProgram,
  reduceProgram,
  type Tensor,
  tensor,
} from '@nabla/core';
import { describe, expect, it } from 'vitest';
import * as R from '../ref.js';
import { check, type Layout, toTensor } from './util.js';

type Op = 'sum' | 'max' | 'min';
type Axes = number | number[] | undefined;

const ACC = { rtol: 1e-5, atol: 1e-5 };
const REDUCERS: Record<Op, (xs: number[]) => number> = {
  sum: R.reducers.sum,
  max: (xs) => (xs.some(Number.isNaN) ? Number.NaN : Math.max(...xs)),
  min: (xs) => (xs.some(Number.isNaN) ? Number.NaN : Math.min(...xs)),
};

const round = (v: number, dtype: DType) => (dtype === 'int32' ? v | 0 : Math.fround(v));

/** Values as the device stores them. */
const stored = (r: R.Ref, dtype: DType) => R.map(r, (v) => round(v, dtype));

/** A program evaluated at every position of its inputs' broadcast shape. */
function evaluate(
  program: PointwiseProgram,
  inputs: readonly R.Ref[],
  scalars: readonly number[],
  shape: number[],
): R.Ref {
  const values: number[] = [];
  const results: number[] = [];
  return R.build(
    shape,
    (idx) => evaluateAt(program, (k) => R.atBroadcast(inputs[k], idx), scalars, values, results)[0],
  );
}

interface Epi {
  program: PointwiseProgram;
  inputs: { ref: R.Ref; dtype: DType }[];
  scalars?: number[];
}

function reference(
  op: Op,
  program: PointwiseProgram,
  inputs: readonly R.Ref[],
  scalars: readonly number[],
  axes: Axes,
  keepDim: boolean,
  epi?: Epi,
): R.Ref {
  let shape: number[] = [];
  for (const x of inputs) shape = R.broadcastShape(shape, x.shape)!;
  const values = evaluate(program, inputs, scalars, shape);
  const reduced = R.map(R.reduce(values, axes, keepDim, REDUCERS[op]), (v) =>
    round(v, program.outputDtypes[0]),
  );
  if (!epi) return reduced;
  const extra = epi.inputs.map((x) => stored(x.ref, x.dtype));
  return evaluate(epi.program, [reduced, ...extra], epi.scalars ?? [], [...reduced.shape]);
}

interface Case {
  label: string;
  op: Op;
  program: PointwiseProgram;
  inputs: { ref: R.Ref; layout?: Layout }[];
  scalars?: number[];
  axes: Axes;
  keepDim?: boolean;
  epi?: Epi;
}

async function expectCase(c: Case): Promise<void> {
  const refs = c.inputs.map((x, k) => stored(x.ref, c.program.inputs[k]));
  const want = reference(c.op, c.program, refs, c.scalars ?? [], c.axes, c.keepDim ?? false, c.epi);
  const dtype = c.epi?.program.outputDtypes[0] ?? c.program.outputDtypes[0];
  await check(
    () =>
      reduceProgram(
        c.op,
        c.program,
        refs.map((r, k) => toTensor(r, { dtype: c.program.inputs[k], layout: c.inputs[k].layout })),
        c.scalars ?? [],
        {
          axis: c.axes,
          keepDim: c.keepDim,
          epilogue: c.epi && {
            program: c.epi.program,
            inputs: c.epi.inputs.map((x) => toTensor(stored(x.ref, x.dtype), { dtype: x.dtype })),
            scalars: c.epi.scalars,
          },
        },
      ),
    want,
    ACC,
    c.label,
    dtype,
  );
}

const product = pointwiseProgram('conf-rp-mul-add', {
  inputs: ['float32', 'float32'],
  scalars: ['float32'],
  outputs: [E.add(E.mul(E.input(0), E.input(1)), E.scalar(0))],
});
const kept = pointwiseProgram('conf-rp-kept', {
  inputs: ['int32'],
  scalars: ['int32'],
  outputs: [E.select(E.ne(E.input(0, 'int32'), E.scalar(0, 'int32')), E.const(1), E.const(0))],
});
const intSquare = pointwiseProgram('conf-rp-isq', {
  inputs: ['int32'],
  outputs: [E.mul(E.input(0, 'int32'), E.input(0, 'int32'))],
});
const divide = pointwiseProgram('conf-rp-div', {
  inputs: ['float32', 'float32'],
  outputs: [E.div(E.input(0), E.input(1))],
});
const affine = pointwiseProgram('conf-rp-affine', {
  inputs: ['float32', 'float32', 'int32'],
  scalars: ['float32'],
  outputs: [E.add(E.mul(E.input(0), E.input(1)), E.mul(E.cast(E.input(2, 'int32'), 'float32'), E.scalar(0)))],
});
const toFloat = pointwiseProgram('conf-rp-tofloat', {
  inputs: ['int32'],
  outputs: [E.mul(E.cast(E.input(0, 'int32'), 'float32'), E.const(0.5))],
});

/** Registers the program-reduction cases for the active backend. */
export function reduceProgramSuite(): void {
  describe('reductions of programs', () => {
    const x = R.randomRef(R.rng(71), [3, 4, 5]);
    it('sum/max/min of x·y + s: every axis choice, broadcast and non-contiguous inputs', async () => {
      // y [4, 1] broadcasts inside the reduced block [1, 2] (its dims cannot merge there)
      const y = R.randomRef(R.rng(72), [4, 1]);
      for (const op of ['sum', 'max', 'min'] as const) {
        for (const axes of [undefined, 0, 1, -1, [1, 2], [0, 2]] as Axes[]) {
          for (const keepDim of [false, true]) {
            for (const layout of ['contiguous', 'transposed'] as Layout[]) {
              await expectCase({
                label: `${op}(${JSON.stringify(axes)}, ${keepDim}) ${layout}`,
                op,
                program: product,
                inputs: [{ ref: x, layout }, { ref: y }],
                scalars: [0.25],
                axes,
                keepDim,
              });
            }
          }
        }
      }
    });

    it('int32 inputs: a count of kept rows, a cast, an int32 sum', async () => {
      const t = R.ref([9], [3, -100, 0, 1, -100, 2, 2, 5, 7]);
      await expectCase({
        label: 'count',
        op: 'sum',
        program: kept,
        inputs: [{ ref: t }],
        scalars: [-100],
        axes: undefined,
      });
      const m = R.randomIntRef(R.rng(73), [2, 3, 4], -50, 50);
      for (const axes of [1, [0, 2]] as Axes[]) {
        await expectCase({
          label: `cast ${JSON.stringify(axes)}`,
          op: 'max',
          program: toFloat,
          inputs: [{ ref: m, layout: 'transposed' }],
          axes,
        });
        await expectCase({
          label: `int32 sum ${JSON.stringify(axes)}`,
          op: 'sum',
          program: intSquare,
          inputs: [{ ref: m }],
          axes,
        });
      }
    });

    it('epilogue with broadcast extra inputs (float32 and from an int32 sum)', async () => {
      const y = R.randomRef(R.rng(74), [3, 4, 5]);
      const k = R.randomIntRef(R.rng(75), [4, 1], -3, 3);
      for (const [shape, keepDim] of [
        [[5], false],
        [[3, 1], false],
        [[3, 1, 5], true],
        [[], false],
      ] as [number[], boolean][]) {
        await expectCase({
          label: `sum / c${JSON.stringify(shape)}`,
          op: 'sum',
          program: affine,
          inputs: [{ ref: x, layout: 'transposed' }, { ref: y }, { ref: k }],
          scalars: [1.5],
          axes: 1,
          keepDim,
          epi: { program: divide, inputs: [{ ref: R.randomRef(R.rng(76), shape, 1, 3), dtype: 'float32' }] },
        });
      }
      // an int32 reduced value, cast by the epilogue
      const half = pointwiseProgram('conf-rp-half', {
        inputs: ['int32'],
        outputs: [E.mul(E.cast(E.input(0, 'int32'), 'float32'), E.const(0.5))],
      });
      await expectCase({
        label: 'int32 sum, float epilogue',
        op: 'sum',
        program: intSquare,
        inputs: [{ ref: R.randomIntRef(R.rng(77), [6, 7], -9, 9) }],
        axes: 0,
        epi: { program: half, inputs: [] },
      });
    });

    it('an empty reduced axis sums to 0 (then the epilogue); an empty output is empty', async () => {
      const e = R.ref([2, 0, 3], []);
      const plus = pointwiseProgram('conf-rp-plus', {
        inputs: ['float32', 'float32'],
        outputs: [E.add(E.input(0), E.input(1))],
      });
      await expectCase({
        label: 'size 0',
        op: 'sum',
        program: toFloat,
        inputs: [{ ref: R.map(e, (v) => v) }],
        axes: 1,
      });
      await expectCase({
        label: 'size 0 + epilogue',
        op: 'sum',
        program: toFloat,
        inputs: [{ ref: e }],
        axes: 1,
        epi: { program: plus, inputs: [{ ref: R.ref([3], [1, 2, 3]), dtype: 'float32' }] },
      });
      await expectCase({ label: 'empty output', op: 'sum', program: toFloat, inputs: [{ ref: e }], axes: 0 });
    });

    it('bad calls fail alike everywhere, before any kernel', () => {
      const f = tensor([1, 2, 3]);
      const i = tensor([1, 2, 3], { dtype: 'int32' });
      const bad = (run: () => Tensor) => expect(run).toThrow();
      try {
        expect(() => reduceProgram('argmax' as Op, divide, [f, f])).toThrow(/sum, max or min/);
        expect(() => reduceProgram('sum', divide, [f, i])).toThrow(/input 1 must be float32, got int32/);
        expect(() => reduceProgram('sum', divide, [f])).toThrow(/expects 2 inputs, got 1/);
        expect(() => reduceProgram('max', toFloat, [tensor([], { dtype: 'int32' })])).toThrow(/zero-size/);
        expect(() =>
          reduceProgram('sum', product, [f, f], [1], {
            axis: 0,
            keepDim: true,
            epilogue: { program: divide, inputs: [tensor([1, 2])] },
          }),
        ).toThrow(/does not broadcast to the result's/);
        expect(() => reduceProgram('sum', product, [f, f], [1], { epilogue: { program: toFloat } })).toThrow(
          /epilogue input 0 must be int32, got float32/,
        );
        bad(() => reduceProgram('sum', product, [f, f], [(() => 1) as unknown as number]));
      } finally {
        f.dispose();
        i.dispose();
      }
    });
  });
}
