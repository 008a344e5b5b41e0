import {
  type BinaryFn,
  type DType,
  E,
  type Expr,
  evaluateAt,
  type PointwiseProgram,
  pointwiseProgram,
  type StridedView,
  type UnaryFn,
} from '@nabla/core';
import { randInt, randomArray, refBinary, rng } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import type { CpuBackend } from '../src/backend.js';
import { setCodegen } from '../src/kernels/codegen.js';
import { collapse } from '../src/kernels/pointwise.js';
import { at, fixture, indices, prod, randomTrials, randomView } from './helpers.js';

// Float64 references, written independently of the renderer.
const UNARY_REF: Partial<Record<UnaryFn, (a: number) => number>> = {
  neg: (a) => -a,
  abs: (a) => Math.abs(a),
  sign: (a) => Math.sign(a),
  exp: (a) => Math.exp(a),
  log: (a) => Math.log(a),
  log1p: (a) => Math.log1p(a),
  sqrt: (a) => Math.sqrt(a),
  rsqrt: (a) => 1 / Math.sqrt(a),
  recip: (a) => 1 / a,
  tanh: (a) => Math.tanh(a),
  floor: (a) => Math.floor(a),
};
const INT_UNARY = new Set<UnaryFn>(['neg', 'abs', 'sign']);
const COMPARE = new Set<BinaryFn>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

type View = { data: Float32Array | Int32Array; offset: number; strides: number[] };

/** Runs `program` on the backend and returns every output's values. */
function run(
  be: CpuBackend,
  buf: (d: Float32Array | Int32Array) => ReturnType<CpuBackend['alloc']>,
  program: PointwiseProgram,
  inputs: readonly View[],
  shape: readonly number[],
  scalars: readonly number[] = [],
): number[][] {
  const outputs = program.outputDtypes.map((d) => be.alloc(prod(shape), d));
  const views: StridedView[] = inputs.map((v) => ({
    buffer: buf(v.data),
    offset: v.offset,
    strides: v.strides,
  }));
  be.kernels.pointwise({ program, inputs: views, scalars, outputs, shape });
  return outputs.map((o) => Array.from(be.readSync(o)));
}

/** Core's reference interpreter over the same views: the renderer must agree bit for bit. */
function reference(
  program: PointwiseProgram,
  inputs: readonly View[],
  shape: readonly number[],
  scalars: readonly number[] = [],
): number[][] {
  const outs: number[][] = program.outputs.map(() => []);
  for (const idx of indices(shape)) {
    const r = evaluateAt(
      program,
      (k) => at(inputs[k].data, inputs[k].offset, inputs[k].strides, idx),
      scalars,
      [],
      [],
      (d) => idx[d],
    );
    r.forEach((v, j) => {
      outs[j].push(program.outputDtypes[j] === 'float32' ? Math.fround(v) : v | 0);
    });
  }
  return outs;
}

/** Rounds a float64 reference the way a store into the output array does. */
function store(v: number, dtype: DType): number {
  return dtype === 'float32' ? Math.fround(v) : v | 0;
}

function expectClose(actual: ArrayLike<number>, expected: number[], rel = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (Number.isNaN(e)) expect(a, `element ${i}`).toBeNaN();
    else if (!Number.isFinite(e)) expect(a, `element ${i}`).toBe(e);
    else expect(Math.abs(a - e), `element ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(rel * (1 + Math.abs(e)));
  }
}

function randomShape(r: () => number): number[] {
  const rank = randInt(r, 0, 4);
  return Array.from({ length: rank }, () => {
    const p = r();
    return p < 0.08 ? 0 : p < 0.3 ? 1 : randInt(r, 2, 6);
  });
}

describe('cpu elementwise', () => {
  it('collapses contiguous and broadcast dimensions', () => {
    expect(collapse([2, 3, 4], [[12, 4, 1]])).toEqual({ shape: [24], strides: [[1]] });
    expect(
      collapse(
        [2, 1, 3, 4],
        [
          [12, 99, 4, 1],
          [0, 0, 0, 0],
        ],
      ),
    ).toEqual({ shape: [24], strides: [[1], [0]] });
    // A transposed input cannot merge with its neighbour.
    expect(collapse([3, 4], [[1, 3]])).toEqual({ shape: [3, 4], strides: [[1, 3]] });
    expect(collapse([1, 1], [[5, 7]])).toEqual({ shape: [1], strides: [[0]] });
  });

  it('unary fns match float64 references and the reference interpreter on random strided views', () => {
    randomTrials(1, 60, (r, { be, buf }) => {
      for (const fn of Object.keys(UNARY_REF) as UnaryFn[]) {
        const shape = randomShape(r);
        const dtype: DType = INT_UNARY.has(fn) && r() < 0.3 ? 'int32' : 'float32';
        const program = pointwiseProgram(`t-${fn}`, {
          inputs: [dtype],
          outputs: [(E[fn] as (x: Expr) => Expr)(E.input(0, dtype))],
        });
        const x = randomView(r, shape, dtype);
        const [got] = run(be, buf, program, [x], shape);
        expect(got).toEqual(reference(program, [x], shape)[0]);
        const expected = [...indices(shape)].map((idx) =>
          store(UNARY_REF[fn]!(at(x.data, x.offset, x.strides, idx)), dtype),
        );
        expectClose(got, expected);
      }
    });
  });

  it('binary fns match float64 references with broadcast and transposed strides', () => {
    randomTrials(2, 60, (r, { be, buf }) => {
      for (const fn of Object.keys(refBinary) as BinaryFn[]) {
        const shape = randomShape(r);
        const dtype: DType = fn !== 'pow' && r() < 0.3 ? 'int32' : 'float32';
        const outType: DType = COMPARE.has(fn) ? 'int32' : dtype;
        // Small positive bases keep pow finite; small ints make equality ties likely.
        const scale = fn === 'pow' ? 2 : 3;
        const a = randomView(r, shape, dtype, scale);
        const b = randomView(r, shape, dtype, scale);
        if (dtype === 'float32' && r() < 0.5) a.data = a.data.map(Math.round) as Float32Array;
        if (fn === 'pow') a.data = a.data.map(Math.abs) as typeof a.data;
        const program = pointwiseProgram(`t-${fn}`, {
          inputs: [dtype, dtype],
          outputs: [E[fn](E.input(0, dtype), E.input(1, dtype))],
        });
        const [got] = run(be, buf, program, [a, b], shape);
        expect(got).toEqual(reference(program, [a, b], shape)[0]);
        const expected = [...indices(shape)].map((idx) =>
          store(
            refBinary[fn](at(a.data, a.offset, a.strides, idx), at(b.data, b.offset, b.strides, idx)),
            dtype === 'int32' && fn === 'div' ? 'float32' : outType,
          ),
        );
        if (dtype === 'int32' && fn === 'div')
          expectClose(
            got,
            expected.map((v) => (Number.isFinite(v) ? Math.trunc(v) : 0)),
          );
        else expectClose(got, expected);
      }
    });
  });

  it('tiles large transposed reads correctly, edges and leading batch dims included', () => {
    const r = rng(4);
    const { be, buf } = fixture();
    const sub = pointwiseProgram('t-sub', {
      inputs: ['float32', 'float32'],
      outputs: [E.sub(E.input(0), E.input(1))],
    });
    for (let trial = 0; trial < 12; trial++) {
      const batch = trial % 3 === 0 ? [] : [randInt(r, 2, 3)];
      const shape = [...batch, randInt(r, 32, 70), randInt(r, 32, 70)];
      // Input a stores each matrix column-major (a batched transpose) at an offset; b is
      // a random view, possibly broadcast or itself transposed.
      const [rows, cols] = shape.slice(-2);
      const offset = randInt(r, 0, 5);
      const aData = randomArray(r, offset + prod(shape), 'float32') as Float32Array;
      const aStrides = [...batch.map(() => rows * cols), 1, rows];
      const b = randomView(r, shape, 'float32');
      const [got] = run(be, buf, sub, [{ data: aData, offset, strides: aStrides }, b], shape);
      const expected = [...indices(shape)].map((idx) =>
        Math.fround(at(aData, offset, aStrides, idx) - at(b.data, b.offset, b.strides, idx)),
      );
      expect(got).toEqual(expected);
    }
  });

  it('E.index in the contiguous, strided and tiled loops, generated and interpreted', () => {
    const r = rng(5);
    const { be, buf } = fixture();
    const cases: { shape: number[]; strides: number[] }[] = [
      { shape: [100], strides: [1] }, // contiguous
      { shape: [6, 7], strides: [7, 1] }, // contiguous, rank 2
      { shape: [5, 7], strides: [1, 5] }, // strided
      { shape: [4, 1, 9], strides: [0, 0, 1] }, // broadcast: strided
      { shape: [70, 40], strides: [1, 70] }, // transposed: tiled
      { shape: [2, 35, 33], strides: [35 * 33, 1, 35] }, // batched transposed: tiled
    ];
    try {
      for (const generated of [true, false]) {
        setCodegen(generated);
        for (const { shape, strides } of cases) {
          const last = shape.length - 1;
          const p = pointwiseProgram(`t-index${shape.length}`, {
            inputs: ['float32'],
            outputs: [
              E.add(E.mul(E.index(0), 1000), E.index(last)),
              E.mul(E.input(0), E.cast(E.index(last > 0 ? 1 : 0), 'float32')),
            ],
          });
          const data = randomArray(r, prod(shape), 'float32') as Float32Array;
          const inputs = [{ data, offset: 0, strides }];
          expect(run(be, buf, p, inputs, shape), `[${shape}] ${generated}`).toEqual(
            reference(p, inputs, shape),
          );
        }
      }
    } finally {
      setCodegen(true);
    }
  });

  it('int32 arithmetic wraps like int32 and divides toward zero (x / 0 is 0)', () => {
    const { be, buf } = fixture();
    const a = { data: new Int32Array([2147483647, -7, 65536, 7, -2147483648]), offset: 0, strides: [1] };
    const b = { data: new Int32Array([1, 2, 65536, 0, 1]), offset: 0, strides: [1] };
    const p = pointwiseProgram('t-int', {
      inputs: ['int32', 'int32'],
      outputs: (['add', 'mul', 'div'] as const).map((fn) => E[fn](E.input(0, 'int32'), E.input(1, 'int32'))),
    });
    const [add, mul, div] = run(be, buf, p, [a, b], [5]);
    expect(add).toEqual([-2147483648, -5, 131072, 7, -2147483647]);
    expect(mul).toEqual([2147483647, -14, 0, 0, -2147483648]);
    expect(div).toEqual([2147483647, -3, 1, 0, -2147483648]);
  });

  it('propagates NaN through max/min and keeps it and signed zero in sign; casts truncate', () => {
    const { be, buf } = fixture();
    const a = { data: new Float32Array([Number.NaN, 1, -0, -3.7]), offset: 0, strides: [1] };
    const b = { data: new Float32Array([1, Number.NaN, 0, 2]), offset: 0, strides: [1] };
    const x = E.input(0);
    const y = E.input(1);
    const p = pointwiseProgram('t-nan', {
      inputs: ['float32', 'float32'],
      outputs: [E.max(x, y), E.min(x, y), E.sign(x), E.cast(x, 'int32'), E.select(E.lt(x, 0), 0, x)],
    });
    const [max, min, sign, int, relu] = run(be, buf, p, [a, b], [4]);
    expect(max).toEqual([Number.NaN, Number.NaN, 0, 2]);
    // min(-0, 0) may be either zero; normalise the sign before comparing.
    expect(min.map((v) => v + 0)).toEqual([Number.NaN, Number.NaN, 0, -3.700000047683716]);
    expect(sign).toEqual([Number.NaN, 1, -0, -1]);
    expect(int).toEqual([0, 1, 0, -3]);
    expect(relu).toEqual([Number.NaN, 1, -0, 0]);
  });

  it('select picks per element with broadcast operands; int32 and float32 scalars are per call', () => {
    randomTrials(3, 100, (r, { be, buf }) => {
      const shape = randomShape(r);
      const dtype: DType = r() < 0.5 ? 'int32' : 'float32';
      const c = randomView(r, shape, 'int32', 1);
      const a = randomView(r, shape, dtype);
      const b = randomView(r, shape, dtype);
      const p = pointwiseProgram('t-select', {
        inputs: ['int32', dtype, dtype],
        scalars: [dtype],
        outputs: [
          E.select(E.input(0, 'int32'), E.input(1, dtype), E.add(E.input(2, dtype), E.scalar(0, dtype))),
        ],
      });
      const s = dtype === 'int32' ? randInt(r, -5, 5) : r() * 3;
      const [got] = run(be, buf, p, [c, a, b], shape, [s]);
      expect(got).toEqual(reference(p, [c, a, b], shape, [s])[0]);
    });
  });

  it('several outputs in one pass, in place over an identity-view input', () => {
    const { be, buf } = fixture();
    const p = pointwiseProgram('t-step', {
      inputs: ['float32', 'float32'],
      scalars: ['float32'],
      outputs: [E.sub(E.input(0), E.mul(E.scalar(0), E.input(1))), E.mul(E.input(0), E.input(1))],
    });
    const param = buf(new Float32Array([1, 2, 3, 4]));
    const grad = buf(new Float32Array([10, 20, 30, 40]));
    const prod2 = be.alloc(4, 'float32');
    const view = (buffer: typeof param): StridedView => ({ buffer, offset: 0, strides: [2, 1] });
    // The first output overwrites input 0; the second output must still see the old values.
    be.kernels.pointwise({
      program: p,
      inputs: [view(param), view(grad)],
      scalars: [0.5],
      outputs: [param, prod2],
      shape: [2, 2],
    });
    expect(Array.from(be.readSync(param))).toEqual([-4, -8, -12, -16]);
    expect(Array.from(be.readSync(prod2))).toEqual([10, 40, 90, 160]);
  });

  it('rejects views that reach outside their buffer, bad counts and bad dtypes', () => {
    const { be, view } = fixture();
    const out = be.alloc(6, 'float32');
    const neg = pointwiseProgram('t-neg', { inputs: ['float32'], outputs: [E.neg(E.input(0))] });
    const lt = pointwiseProgram('t-lt', {
      inputs: ['float32', 'float32'],
      outputs: [E.lt(E.input(0), E.input(1))],
    });
    const call = (program: PointwiseProgram, inputs: StridedView[], shape: number[]) =>
      be.kernels.pointwise({ program, inputs, scalars: [], outputs: [out], shape });
    expect(() => call(neg, [view(new Float32Array(5), 0, [3, 1])], [2, 3])).toThrow(
      /reads elements 0\.\.5 of a buffer of 5/,
    );
    expect(() => call(neg, [view(new Float32Array(6), 0, [1])], [2, 3])).toThrow(
      /input 0 is float32 with 1 strides; the program reads float32 over 2 dims/,
    );
    expect(() =>
      call(lt, [view(new Float32Array(6), 0, [1]), view(new Float32Array(6), 0, [1])], [6]),
    ).toThrow(/output 0 must hold 6 int32, got 6 float32/);
    expect(() => call(neg, [view(new Int32Array(6), 0, [1])], [6])).toThrow(
      /input 0 is int32 with 1 strides; the program reads float32 over 1 dims/,
    );
    expect(() => call(neg, [], [6])).toThrow(/expects 1 inputs and 0 scalars, got 0 and 0/);
  });
});
