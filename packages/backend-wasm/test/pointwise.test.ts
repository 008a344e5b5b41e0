import {
  BINARY_FNS,
  type BinaryFn,
  type DType,
  E,
  type Expr,
  evaluateAt,
  type PointwiseProgram,
  pointwiseProgram,
  UNARY_FNS,
  type UnaryFn,
} from '@nabla/core';
import { randomF32, rng, upload } from '@nabla/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../src/backend.js';
import { pointwiseJitErrors } from '../src/kernels/pointwise.js';
import { PARALLEL_MIN_ELEMENTS } from '../src/kernels/strided.js';
import type { Runtime } from '../src/runtime.js';
import { forEachIndex, stridedGet, view } from './helpers.js';

/** A strided input: its buffer's data and the view onto the output shape. */
interface In {
  readonly data: Float32Array | Int32Array;
  readonly strides: readonly number[];
  readonly offset?: number;
}

/** Contiguous 1-D inputs: each array read element by element. */
function contiguous(...data: (Float32Array | Int32Array)[]): In[] {
  return data.map((d) => ({ data: d, strides: [1] }));
}

/** Core's reference evaluator at every element (row-major). */
function reference(p: PointwiseProgram, inputs: readonly In[], scalars: readonly number[], shape: number[]) {
  const total = shape.reduce((a, b) => a * b, 1);
  const outs = p.outputDtypes.map((d) => (d === 'float32' ? new Float32Array(total) : new Int32Array(total)));
  const values: number[] = [];
  const results: number[] = [];
  forEachIndex(shape, (idx, flat) => {
    const read = (k: number) => {
      const x = inputs[k] as In;
      return stridedGet(x.data, { offset: x.offset ?? 0, strides: x.strides }, idx);
    };
    evaluateAt(p, read, scalars, values, results, (d) => idx[d] as number);
    results.forEach((v, o) => {
      (outs[o] as Float32Array | Int32Array)[flat] = v;
    });
  });
  return outs;
}

function runOn(
  be: WasmBackend,
  p: PointwiseProgram,
  inputs: readonly In[],
  scalars: readonly number[],
  shape: number[],
) {
  const total = shape.reduce((a, b) => a * b, 1);
  const bufs = inputs.map((x) => upload(be, x.data));
  const outs = p.outputDtypes.map((d) => be.alloc(total, d));
  be.kernels.pointwise({
    program: p,
    inputs: inputs.map((x, k) => view(bufs[k]!, [...x.strides], x.offset ?? 0)),
    scalars,
    outputs: outs,
    shape,
  });
  const res = outs.map((o) => be.readSync(o));
  for (const b of [...bufs, ...outs]) be.disposeBuffer(b);
  return res;
}

const bits = new DataView(new ArrayBuffer(4));
/** float32 values as ordered integers: neighbours differ by 1. */
function ordered(x: number): number {
  bits.setFloat32(0, x);
  const i = bits.getInt32(0);
  return i < 0 ? -2147483648 - i : i;
}

/** Equal bit for bit (every NaN equal), or within `ulps` units in the last place. */
function expectMatch(actual: ArrayLike<number>, expected: ArrayLike<number>, ulps = 0, what = ''): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (Object.is(a, e)) continue;
    const d = Math.abs(ordered(a) - ordered(e));
    if (ulps > 0 && Number.isFinite(e) && d <= ulps) continue;
    throw new Error(`${what} index ${i}: got ${a}, expected ${e}${ulps ? ` (${d} ulp)` : ''}`);
  }
}

function check(
  be: WasmBackend,
  p: PointwiseProgram,
  inputs: In[],
  scalars: number[],
  shape: number[],
  ulps = 0,
  what = '',
) {
  const got = runOn(be, p, inputs, scalars, shape);
  const want = reference(p, inputs, scalars, shape);
  got.forEach((g, o) => {
    expectMatch(g, want[o]!, ulps, `${p.name}${what} output ${o}`);
  });
  return got;
}

const SPECIAL_F32 = [0, -0, 1, -1, 0.5, -2.5, 3.5, 1e-40, -1e-40, 1e30, -1e30, 88.8, -87, 3e9, -3e9];
const SPECIAL_F32_X = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, ...SPECIAL_F32];
const SPECIAL_I32 = [0, 1, -1, 2, -2, 7, -7, 2147483647, -2147483648, 65536, -65536, 46341];

/** `n` float32 values: the special values first, then uniform in [lo, hi). */
function f32Data(n: number, seed: number, lo: number, hi: number, specials = SPECIAL_F32_X): Float32Array {
  const x = randomF32(n, seed, lo, hi);
  for (let i = 0; i < Math.min(n, specials.length); i++) x[i] = specials[i] as number;
  return x;
}

function i32Data(n: number, seed: number): Int32Array {
  const r = rng(seed);
  const x = new Int32Array(n);
  for (let i = 0; i < n; i++)
    x[i] = i < SPECIAL_I32.length ? (SPECIAL_I32[i] as number) : Math.floor(r(-1000, 1000));
  return x;
}

/** Accuracy (ulps) of the vector transcendentals against core's float64 reference; exact elsewhere. */
const UNARY_ULPS: Partial<Record<UnaryFn, number>> = { exp: 2, log: 2, log1p: 3, tanh: 3, erf: 3 };
const UNARY_F32: readonly UnaryFn[] = UNARY_FNS;
const BINARY_F32: readonly BinaryFn[] = BINARY_FNS;
const BINARY_I32: readonly BinaryFn[] = BINARY_FNS.filter((fn) => fn !== 'pow');
const unaryBuilders = E as unknown as Record<UnaryFn, (x: Expr) => Expr>;
const binaryBuilders = E as unknown as Record<BinaryFn, (a: Expr, b: Expr) => Expr>;

const program = (name: string, inputs: DType[], outputs: Expr[], scalars: DType[] = []) =>
  pointwiseProgram(`test_${name}`, { inputs, scalars, outputs });

for (const [threads, jit] of [
  [1, true],
  [1, false],
  [2, true],
  [2, false],
] as const) {
  describe(`pointwise on wasm (${threads} thread${threads > 1 ? 's' : ''}, ${jit ? 'compiled' : 'interpreted'})`, () => {
    let be: WasmBackend;
    beforeAll(async () => {
      be = await createWasmBackend({ threads, jit });
    });
    afterAll(() => {
      // every program compiled: no silent fallback to the interpreter hides an emitter bug
      expect([...pointwiseJitErrors((be as unknown as { rt: Runtime }).rt).values()]).toEqual([]);
      be.destroy();
    });

    for (const n of [1, 3, 4, 7, 33, 257, 1000]) {
      it(`every float32 unary fn, n=${n}`, () => {
        for (const fn of UNARY_F32) {
          // exp: vexp flushes results below 2^-126 to zero (subnormals; owned by the accuracy work)
          const range = fn === 'exp' ? 87 : fn === 'erf' || fn === 'tanh' ? 5 : 20;
          const x = f32Data(n, n + 1, fn === 'log' || fn === 'log1p' ? -1.5 : -range, range);
          const p = program(`un_${fn}`, ['float32'], [unaryBuilders[fn](E.input(0))]);
          check(be, p, contiguous(x), [], [n], UNARY_ULPS[fn] ?? 0);
        }
      });

      it(`every float32 binary fn, n=${n}`, () => {
        const sp = SPECIAL_F32_X;
        // every pair of special values, then random pairs
        const m = Math.max(n, sp.length * sp.length);
        const a = f32Data(m, 2 * n, -4, 4, []);
        const b = f32Data(m, 3 * n, -4, 4, []);
        for (let i = 0; i < sp.length * sp.length; i++) {
          a[i] = sp[i % sp.length] as number;
          b[i] = sp[Math.floor(i / sp.length)] as number;
        }
        for (const fn of BINARY_F32) {
          const p = program(
            `bin_${fn}`,
            ['float32', 'float32'],
            [binaryBuilders[fn](E.input(0), E.input(1))],
          );
          check(be, p, contiguous(a, b), [], [m], fn === 'pow' ? 1 : 0);
        }
      });
    }

    it('int32: unary, binary (wrapping, division by zero, INT_MIN / -1), comparisons', () => {
      const sp = SPECIAL_I32;
      const m = sp.length * sp.length + 41;
      const a = i32Data(m, 5);
      const b = i32Data(m, 6);
      for (let i = 0; i < sp.length * sp.length; i++) {
        a[i] = sp[i % sp.length] as number;
        b[i] = sp[Math.floor(i / sp.length)] as number;
      }
      for (const fn of ['neg', 'abs', 'sign'] as UnaryFn[]) {
        check(
          be,
          program(`ui_${fn}`, ['int32'], [unaryBuilders[fn](E.input(0, 'int32'))]),
          contiguous(a),
          [],
          [m],
        );
      }
      for (const fn of BINARY_I32) {
        const p = program(
          `bi_${fn}`,
          ['int32', 'int32'],
          [binaryBuilders[fn](E.input(0, 'int32'), E.input(1, 'int32'))],
        );
        check(be, p, contiguous(a, b), [], [m]);
      }
    });

    it('casts both ways (truncation, wrap modulo 2^32 beyond int32, NaN and ±∞ to 0) and select', () => {
      const n = 300;
      const x = f32Data(n, 9, -3e9, 3e9);
      x[20] = 2147483648;
      x[21] = -2147483904;
      x[22] = 4294967296 * 3 + 256;
      x[23] = -0.75;
      x[24] = 2.9;
      const ints = i32Data(n, 10);
      ints[20] = 16777217; // rounds to float32
      ints[21] = 2147483647;
      check(be, program('cast_fi', ['float32'], [E.cast(E.input(0), 'int32')]), contiguous(x), [], [n]);
      check(
        be,
        program('cast_if', ['int32'], [E.cast(E.input(0, 'int32'), 'float32')]),
        contiguous(ints),
        [],
        [n],
      );
      const sel = program(
        'select',
        ['int32', 'float32', 'float32'],
        [E.select(E.input(0, 'int32'), E.input(1), E.input(2))],
      );
      const cond = i32Data(n, 11).map((v) => (v % 3 === 0 ? 0 : v));
      check(be, sel, contiguous(cond, x, randomF32(n, 12)), [], [n]);
      const seli = program(
        'select_i',
        ['float32'],
        [E.select(E.gt(E.input(0), 0), E.cast(E.input(0), 'int32'), E.const(-5, 'int32'))],
      );
      check(be, seli, contiguous(x), [], [n]);
    });

    it('constants and per-call scalars of both dtypes; a new scalar needs no new program', () => {
      const n = 517;
      const x = randomF32(n, 13, -3, 3);
      const i = i32Data(n, 14);
      const p = program(
        'scalars',
        ['float32', 'int32'],
        [
          E.add(E.mul(E.input(0), E.scalar(0)), E.const(0.1)),
          E.mul(E.add(E.input(1, 'int32'), E.scalar(1, 'int32')), E.const(3, 'int32')),
          E.scalar(0),
          E.const(-2.5),
          // computed once per call (depends on scalars only), used per element and stored
          E.mul(E.input(0), E.sqrt(E.sub(1, E.mul(E.scalar(0), E.scalar(0))))),
          E.sub(1, E.mul(E.scalar(0), E.scalar(0))),
        ],
        ['float32', 'int32'],
      );
      for (const s of [
        [0.37, 5],
        [-1e-3, -7],
        [Number.NaN, 2 ** 31 + 5],
      ]) {
        check(be, p, contiguous(x, i), s, [n]);
      }
    });

    it('strided views: broadcast rows, columns and scalars, transposes, offsets, 5-D, size 1, empty, rank 0', () => {
      const f = (shape: number[], seed: number) =>
        randomF32(shape.reduce((a, b) => a * b, 1) + 7, seed, -2, 2);
      const p = program(
        'axpb',
        ['float32', 'float32', 'float32'],
        [E.add(E.mul(E.input(0), E.input(1)), E.sqrt(E.abs(E.input(2))))],
      );
      const cases: { shape: number[]; views: In[] }[] = [
        // [N, C] with a [C] bias (rows) and a [N, 1] column
        {
          shape: [64, 130],
          views: [
            { data: f([64, 130], 1), strides: [130, 1] },
            { data: f([130], 2), strides: [0, 1] },
            { data: f([64], 3), strides: [1, 0] },
          ],
        },
        // transposed and offset reads
        {
          shape: [33, 70],
          views: [
            { data: f([70, 33], 4), strides: [1, 33] },
            { data: f([33, 70], 5), strides: [70, 1], offset: 3 },
            { data: f([1], 6), strides: [0, 0] },
          ],
        },
        // a permuted 5-D view with a size-1 dim
        {
          shape: [2, 3, 1, 4, 5],
          views: [
            { data: f([120], 7), strides: [1, 2, 0, 6, 24] },
            { data: f([5], 8), strides: [0, 0, 0, 0, 1] },
            { data: f([120], 9), strides: [60, 20, 0, 5, 1] },
          ],
        },
        {
          shape: [1, 1],
          views: [
            { data: f([1], 10), strides: [1, 1] },
            { data: f([1], 11), strides: [0, 0] },
            { data: f([1], 12), strides: [1, 1], offset: 4 },
          ],
        },
        {
          shape: [],
          views: [
            { data: f([1], 13), strides: [] },
            { data: f([1], 14), strides: [], offset: 2 },
            { data: f([1], 15), strides: [] },
          ],
        },
        {
          shape: [0, 3],
          views: [
            { data: f([1], 16), strides: [3, 1] },
            { data: f([1], 17), strides: [0, 1] },
            { data: f([1], 18), strides: [3, 1] },
          ],
        },
        // inner stride 2 (every other element) and a large broadcast
        {
          shape: [5, 300],
          views: [
            { data: f([3000], 19), strides: [600, 2] },
            { data: f([300], 20), strides: [0, 1] },
            { data: f([5], 21), strides: [1, 0] },
          ],
        },
      ];
      for (const c of cases) check(be, p, c.views, [], c.shape, 0, ` [${c.shape}]`);
    });

    it('a pass-through program copies transposed and permuted views (the tiled path), both dtypes', () => {
      for (const dtype of ['float32', 'int32'] as DType[]) {
        const p = program(`copy_${dtype}`, [dtype], [E.input(0, dtype)]);
        const data = dtype === 'float32' ? randomF32(40 * 70 * 3, 60) : i32Data(40 * 70 * 3, 61);
        check(be, p, [{ data, strides: [1, 40] }], [], [40, 70]);
        check(be, p, [{ data, strides: [1, 3 * 40, 40], offset: 1 }], [], [40, 69, 3]);
        // neither tiled nor contiguous: gathered (the input is also the output)
        check(be, p, [{ data, strides: [1, 2, 6] }], [], [2, 3, 4]);
        check(be, p, [{ data, strides: [2, 80], offset: 3 }], [], [40, 30]);
        check(be, p, [{ data, strides: [0, 1] }], [], [7, 300]);
        check(be, p, [{ data, strides: [70 * 40, 1, 40] }], [], [3, 40, 70]);
      }
    });

    it('E.index: coordinates along each axis over whole and partial blocks, broadcast and transposed inputs', () => {
      const shape = [3, 100, 7]; // 2100 elements: 8 whole blocks and a partial one
      const p = program(
        'index',
        ['float32', 'int32'],
        [
          E.index(0),
          E.index(2),
          E.mul(E.input(0), E.cast(E.index(1), 'float32')),
          E.select(E.eq(E.input(1, 'int32'), E.index(2)), E.index(1), -1),
        ],
      );
      const x = f32Data(2100, 60, -2, 2, SPECIAL_F32);
      const t = i32Data(300, 61).map((v) => Math.abs(v) % 7);
      check(
        be,
        p,
        [
          { data: x, strides: [700, 7, 1] },
          { data: t, strides: [100, 1, 0] },
        ],
        [],
        shape,
      );
      check(
        be,
        p,
        [
          { data: x, strides: [1, 21, 3] },
          { data: t, strides: [0, 1, 0] },
        ],
        [],
        shape,
        0,
        ' strided',
      );
      check(
        be,
        p,
        [
          { data: x, strides: [0, 0, 1] },
          { data: t, strides: [0, 0, 0] },
        ],
        [],
        [1, 1, 7],
        0,
        ' small',
      );
    });

    it('several outputs, an unused input, and an output that is an input', () => {
      const n = 1031;
      const x = randomF32(n, 22, -3, 3);
      const y = randomF32(n, 23, -3, 3);
      const p = program(
        'multi',
        ['float32', 'float32', 'float32'],
        [
          E.mul(E.input(0), E.input(0)),
          E.gt(E.input(0), E.input(1)),
          E.input(1),
          E.max(E.input(0), E.neg(E.input(1))),
        ],
      );
      check(be, p, contiguous(x, y, y), [], [n]);
    });

    it('in place: outputs overwrite identity-view inputs (an Adam-like update), also at threading sizes', () => {
      const p = program(
        'adamish',
        ['float32', 'float32', 'float32', 'float32'],
        [
          E.sub(E.input(0), E.mul(E.scalar(0), E.div(E.input(2), E.add(E.sqrt(E.input(3)), 1e-8)))),
          E.add(E.mul(E.input(2), 0.9), E.mul(E.input(1), 0.1)),
          E.add(E.mul(E.input(3), 0.999), E.mul(E.mul(E.input(1), E.input(1)), 0.001)),
        ],
        ['float32'],
      );
      for (const n of [1000, PARALLEL_MIN_ELEMENTS + 3001]) {
        const data = [0, 1, 2, 3].map((k) => randomF32(n, 30 + k, k === 3 ? 0 : -1, 1));
        const want = reference(p, contiguous(...data), [0.01], [n]);
        const bufs = data.map((d) => upload(be, d));
        be.kernels.pointwise({
          program: p,
          inputs: bufs.map((b) => view(b, [1])),
          scalars: [0.01],
          outputs: [bufs[0]!, bufs[2]!, bufs[3]!],
          shape: [n],
        });
        expectMatch(be.readSync(bufs[0]!), want[0]!, 0, 'param');
        expectMatch(be.readSync(bufs[2]!), want[1]!, 0, 'm');
        expectMatch(be.readSync(bufs[3]!), want[2]!, 0, 'v');
        expectMatch(be.readSync(bufs[1]!), data[1]!, 0, 'grad unchanged');
        for (const b of bufs) be.disposeBuffer(b);
      }
    });

    it('a long chain needs few registers and leaves memory() unchanged', () => {
      let e: Expr = E.input(0);
      for (let k = 0; k < 60; k++)
        e = k % 2 ? E.mul(E.add(E.input(0), k), e) : E.sub(E.tanh(E.input(0)), E.mul(e, 0.5));
      const p = program('chain', ['float32'], [e]);
      const live = () => ({ buffers: be.memory().buffers, bytes: be.memory().bytes });
      const before = live();
      check(be, p, contiguous(randomF32(999, 40, -1, 1)), [], [999], 64);
      expect(live()).toEqual(before); // live buffers (the heap's reserved size may grow)
    });

    it('rejects buffers of the wrong dtype or size with a clear error', () => {
      const p = program('neg', ['float32'], [E.neg(E.input(0))]);
      const x = upload(be, new Int32Array(4));
      const out = be.alloc(4, 'float32');
      expect(() =>
        be.kernels.pointwise({ program: p, inputs: [view(x, [1])], scalars: [], outputs: [out], shape: [4] }),
      ).toThrow(/input 0 is int32/);
      const small = be.alloc(2, 'float32');
      const y = upload(be, new Float32Array(4));
      expect(() =>
        be.kernels.pointwise({
          program: p,
          inputs: [view(y, [1])],
          scalars: [],
          outputs: [small],
          shape: [4],
        }),
      ).toThrow(/must hold 4 float32/);
      for (const b of [x, out, small, y]) be.disposeBuffer(b);
    });
  });
}

describe('pointwise layouts', () => {
  it('a program called again over one shape with other strides is planned for those strides', async () => {
    // Layouts are kept per program and reused when the shape and the used inputs' strides
    // match; every other stride pattern must get its own plan.
    const be = await createWasmBackend({ threads: 1, warmup: false });
    const p = pointwiseProgram('layoutsAxpy', {
      inputs: ['float32', 'float32'],
      scalars: ['float32'],
      outputs: [E.add(E.mul(E.scalar(0), E.input(0)), E.input(1))],
    });
    const a = f32Data(12, 1, -2, 2);
    const b = f32Data(12, 2, -2, 2);
    const layouts: In[][] = [
      [
        { data: a, strides: [4, 1] },
        { data: b, strides: [4, 1] },
      ], // both row-major
      [
        { data: a, strides: [1, 3] },
        { data: b, strides: [4, 1] },
      ], // first transposed
      [
        { data: a, strides: [0, 1] },
        { data: b, strides: [4, 1] },
      ], // first broadcast along rows
      [
        { data: a, strides: [4, 1] },
        { data: b, strides: [0, 0] },
      ], // second uniform
    ];
    for (let round = 0; round < 3; round++)
      for (const [i, inputs] of layouts.entries()) check(be, p, inputs, [1.5], [3, 4], 0, ` layout ${i}`);
    be.destroy();
  });
});

describe('pointwise threads', () => {
  it('1 and 2 threads, compiled and interpreted, give the same bits above the threading threshold', async () => {
    const shape = [600, 513];
    const total = shape[0]! * shape[1]!;
    // Below the default threshold, so the backends below are told a lower one.
    const minParallelElements = 1 << 16;
    expect(total).toBeGreaterThan(minParallelElements);
    const p = program(
      'threads',
      ['float32', 'float32', 'int32'],
      [
        E.select(E.input(2, 'int32'), E.exp(E.mul(E.input(0), E.input(1))), E.erf(E.input(0))),
        E.log1p(E.abs(E.input(0))),
        E.add(E.index(0), E.mul(E.index(1), 1000)), // positions where threads split the call
      ],
    );
    const x = randomF32(total, 50, -3, 3);
    const b = randomF32(513, 51, -1, 1);
    const c = i32Data(600, 52).map((v) => v & 1);
    const inputs: In[] = [
      { data: x, strides: [1, 600] }, // transposed
      { data: b, strides: [0, 1] },
      { data: c, strides: [1, 0] },
    ];
    const results = [];
    // one compiled thread against two interpreting ones (a long program runs compiled on one)
    for (const [threads, jit] of [
      [1, true],
      [2, false],
    ] as const) {
      const be = await createWasmBackend({ threads, jit, threading: { minParallelElements } });
      results.push(runOn(be, p, inputs, [], shape));
      be.destroy();
    }
    expectMatch(results[1][0]!, results[0][0]!, 0, 'output 0');
    expectMatch(results[1][1]!, results[0][1]!, 0, 'output 1');
    expectMatch(results[1][2]!, results[0][2]!, 0, 'output 2');
    // and both are core's answer within the transcendentals' ulps
    const want = reference(p, inputs, [], shape);
    expectMatch(results[0][0]!, want[0]!, 3);
    expectMatch(results[0][1]!, want[1]!, 3);
    expectMatch(results[1][2]!, want[2]!, 0);
  });
});

describe('fill', () => {
  it('writes every element in the buffer dtype (int32 truncates)', async () => {
    const be = await createWasmBackend({ threads: 1, warmup: false });
    const out = be.alloc(13, 'float32');
    be.kernels.fill({ out, value: -2.5 });
    expect(Array.from(be.readSync(out))).toEqual(new Array(13).fill(-2.5));
    const ints = be.alloc(6, 'int32');
    be.kernels.fill({ out: ints, value: 3.9 });
    expect(Array.from(be.readSync(ints))).toEqual(new Array(6).fill(3));
    be.destroy();
  });
});
