import type { BinaryOp, DType, UnaryOp } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { collapse } from '../src/kernels/elementwise.js';
import { at, fixture, indices, prod, randInt, randomArray, randomView, rng } from './helpers.js';

// Float64 references, written independently of the kernel tables.
const UNARY_REF: Record<UnaryOp, (a: number) => number> = {
  copy: (a) => a,
  neg: (a) => -a,
  abs: (a) => Math.abs(a),
  sign: (a) => Math.sign(a),
  exp: (a) => Math.exp(a),
  log: (a) => Math.log(a),
  sqrt: (a) => Math.sqrt(a),
  rsqrt: (a) => 1 / Math.sqrt(a),
  relu: (a) => Math.max(a, 0),
  sigmoid: (a) => 1 / (1 + Math.exp(-a)),
  tanh: (a) => Math.tanh(a),
  square: (a) => a * a,
  reciprocal: (a) => 1 / a,
};
const BINARY_REF: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
};
const COMPARE = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

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

  it('unary ops match float64 references on random strided views', () => {
    const r = rng(1);
    const { be, buf } = fixture();
    for (let trial = 0; trial < 150; trial++) {
      for (const op of Object.keys(UNARY_REF) as UnaryOp[]) {
        const shape = randomShape(r);
        const inType: DType = r() < 0.3 ? 'int32' : 'float32';
        const outType: DType = op === 'copy' ? (r() < 0.5 ? 'int32' : 'float32') : inType;
        const x = randomView(r, shape, inType);
        const out = be.alloc(prod(shape), outType);
        be.unary(op, { buffer: buf(x.data), offset: x.offset, strides: x.strides }, out, shape);
        const expected = [...indices(shape)].map((idx) =>
          store(UNARY_REF[op](at(x.data, x.offset, x.strides, idx)), outType),
        );
        expectClose(be.readSync(out), expected);
      }
    }
  });

  it('binary ops match float64 references with broadcast and transposed strides', () => {
    const r = rng(2);
    const { be, buf } = fixture();
    for (let trial = 0; trial < 150; trial++) {
      for (const op of Object.keys(BINARY_REF) as BinaryOp[]) {
        const shape = randomShape(r);
        const inType: DType = r() < 0.3 ? 'int32' : 'float32';
        const outType: DType = COMPARE.has(op) ? 'int32' : inType;
        // Small positive bases keep pow finite; small ints make equality ties likely.
        const scale = op === 'pow' ? 2 : 3;
        const a = randomView(r, shape, inType, scale);
        const b = randomView(r, shape, inType, scale);
        if (inType === 'float32' && r() < 0.5) a.data = a.data.map(Math.round) as Float32Array;
        if (op === 'pow') a.data = a.data.map(Math.abs) as typeof a.data;
        const out = be.alloc(prod(shape), outType);
        be.binary(
          op,
          { buffer: buf(a.data), offset: a.offset, strides: a.strides },
          { buffer: buf(b.data), offset: b.offset, strides: b.strides },
          out,
          shape,
        );
        const expected = [...indices(shape)].map((idx) =>
          store(
            BINARY_REF[op](at(a.data, a.offset, a.strides, idx), at(b.data, b.offset, b.strides, idx)),
            outType,
          ),
        );
        expectClose(be.readSync(out), expected);
      }
    }
  });

  it('tiles large transposed reads correctly, edges and leading batch dims included', () => {
    const r = rng(4);
    const { be, buf } = fixture();
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
      const out = be.alloc(prod(shape), 'float32');
      be.binary(
        'sub',
        { buffer: buf(aData), offset, strides: aStrides },
        { buffer: buf(b.data), offset: b.offset, strides: b.strides },
        out,
        shape,
      );
      const expected = [...indices(shape)].map((idx) =>
        Math.fround(at(aData, offset, aStrides, idx) - at(b.data, b.offset, b.strides, idx)),
      );
      expect(Array.from(be.readSync(out))).toEqual(expected);
    }
  });

  it('int32 arithmetic wraps like int32 and divides toward zero', () => {
    const { be, view } = fixture();
    const a = new Int32Array([2147483647, -7, 65536, 7, -2147483648]);
    const b = new Int32Array([1, 2, 65536, 0, 1]);
    const run = (op: BinaryOp) => {
      const out = be.alloc(5, 'int32');
      be.binary(op, view(a, 0, [1]), view(b, 0, [1]), out, [5]);
      return Array.from(be.readSync(out));
    };
    expect(run('add')).toEqual([-2147483648, -5, 131072, 7, -2147483647]);
    expect(run('mul')).toEqual([2147483647, -14, 0, 0, -2147483648]);
    expect(run('div')).toEqual([2147483647, -3, 1, 0, -2147483648]);
  });

  it('propagates NaN through maximum/minimum and keeps it in relu and sign', () => {
    const { be, view } = fixture();
    const a = new Float32Array([Number.NaN, 1, -0, -3]);
    const b = new Float32Array([1, Number.NaN, 0, 2]);
    const out = be.alloc(4, 'float32');
    be.binary('maximum', view(a, 0, [1]), view(b, 0, [1]), out, [4]);
    expect(Array.from(be.readSync(out))).toEqual([Number.NaN, Number.NaN, 0, 2]);
    be.binary('minimum', view(a, 0, [1]), view(b, 0, [1]), out, [4]);
    // min(-0, 0) may be either zero; normalise the sign before comparing.
    expect(Array.from(be.readSync(out), (v) => v + 0)).toEqual([Number.NaN, Number.NaN, 0, -3]);
    be.unary('relu', view(a, 0, [1]), out, [4]);
    expect(Array.from(be.readSync(out))).toEqual([Number.NaN, 1, -0, 0]);
    be.unary('sign', view(a, 0, [1]), out, [4]);
    expect(Array.from(be.readSync(out))).toEqual([Number.NaN, 1, -0, -1]);
  });

  it('where picks per element with broadcast operands', () => {
    const r = rng(3);
    const { be, buf } = fixture();
    for (let trial = 0; trial < 200; trial++) {
      const shape = randomShape(r);
      const dtype: DType = r() < 0.5 ? 'int32' : 'float32';
      const c = randomView(r, shape, 'int32', 1);
      const a = randomView(r, shape, dtype);
      const b = randomView(r, shape, dtype);
      const out = be.alloc(prod(shape), dtype);
      be.where(
        { buffer: buf(c.data), offset: c.offset, strides: c.strides },
        { buffer: buf(a.data), offset: a.offset, strides: a.strides },
        { buffer: buf(b.data), offset: b.offset, strides: b.strides },
        out,
        shape,
      );
      const expected = [...indices(shape)].map((idx) =>
        at(c.data, c.offset, c.strides, idx) !== 0
          ? at(a.data, a.offset, a.strides, idx)
          : at(b.data, b.offset, b.strides, idx),
      );
      expect(Array.from(be.readSync(out))).toEqual(expected);
    }
  });

  it('rejects views that reach outside their buffer and bad output dtypes', () => {
    const { be, view } = fixture();
    const out = be.alloc(6, 'float32');
    expect(() => be.unary('neg', view(new Float32Array(5), 0, [3, 1]), out, [2, 3])).toThrow(
      /reaches elements 0\.\.5 of a buffer of 5/,
    );
    expect(() => be.unary('neg', view(new Float32Array(6), 0, [1]), out, [2, 3])).toThrow(
      /1 strides for an output of rank 2/,
    );
    expect(() =>
      be.binary('lt', view(new Float32Array(6), 0, [1]), view(new Float32Array(6), 0, [1]), out, [6]),
    ).toThrow(/binary lt output must be int32, got float32/);
    expect(() =>
      be.where(
        view(new Float32Array(6), 0, [1]),
        view(new Float32Array(6), 0, [1]),
        view(new Float32Array(6), 0, [1]),
        out,
        [6],
      ),
    ).toThrow(/condition must be int32/);
  });
});
