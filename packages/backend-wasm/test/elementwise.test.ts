import type { BinaryOp, UnaryOp } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../src/backend.js';
import { contiguous, expectClose, forEachIndex, randomF32, stridedGet, upload, view } from './helpers.js';

const f32 = Math.fround;
const unaryRef: Record<UnaryOp, (x: number) => number> = {
  copy: (x) => x,
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  relu: (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
};
const binaryRef: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b)),
  minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b)),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
};
const intBinaryRef: Partial<Record<BinaryOp, (a: number, b: number) => number>> = {
  add: (a, b) => (a + b) | 0,
  sub: (a, b) => (a - b) | 0,
  mul: (a, b) => Math.imul(a, b),
  div: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)),
  pow: (a, b) => (b < 0 ? 0 : a ** b),
};
const COMPARE = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

for (const threads of [1, 2]) {
  describe(`elementwise (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    let be: WasmBackend;
    beforeAll(async () => {
      be = await createWasmBackend({ threads });
    });
    afterAll(() => be.destroy());

    // sizes around the SIMD width, and one above the threading threshold
    for (const n of [1, 3, 4, 7, 33, 70_001]) {
      it(`unary float32 ops, contiguous n=${n}`, () => {
        const X = randomF32(n, n, -3, 3);
        if (n > 2) X[2] = Number.NaN;
        const x = upload(be, X);
        const out = be.alloc(n, 'float32');
        for (const op of Object.keys(unaryRef) as UnaryOp[]) {
          be.unary(op, view(x, [1]), out, [n]);
          const ref = Array.from(X, (v) => f32(unaryRef[op](v)));
          try {
            expectClose(be.readSync(out), ref, 2e-6, 1e-6);
          } catch (e) {
            throw new Error(`${op}: ${(e as Error).message}`);
          }
        }
        be.disposeBuffer(x);
        be.disposeBuffer(out);
      });
    }

    it('vector exp and sigmoid at the range limits', () => {
      const X = Float32Array.from([
        -1e4,
        -104,
        -87,
        -20,
        -1e-8,
        0,
        1e-8,
        0.5,
        20,
        88,
        88.7,
        89,
        1e4,
        Number.NEGATIVE_INFINITY,
        Number.POSITIVE_INFINITY,
        Number.NaN,
      ]);
      const x = upload(be, X);
      const out = be.alloc(X.length, 'float32');
      for (const op of ['exp', 'sigmoid'] as const) {
        be.unary(op, view(x, [1]), out, [X.length]);
        expectClose(
          be.readSync(out),
          Array.from(X, (v) => f32(unaryRef[op](v))),
          2e-6,
          1e-37,
        );
      }
      be.disposeBuffer(x);
      be.disposeBuffer(out);
    });

    it('copy of transposed views (the tiled path) for both dtypes', () => {
      const cases = [
        { shape: [40, 37], strides: [1, 40], offset: 0 },
        { shape: [3, 20, 30], strides: [600, 1, 20], offset: 0 },
        { shape: [33, 70], strides: [1, 35], offset: 2 }, // a transposed slice
      ];
      for (const c of cases) {
        const total = c.shape.reduce((a, b) => a * b, 1);
        const X = Int32Array.from({ length: total * 2 + 8 }, (_, i) => i * 7 - 3);
        for (const data of [X, Float32Array.from(X)]) {
          const x = upload(be, data);
          const out = be.alloc(total, data instanceof Int32Array ? 'int32' : 'float32');
          be.unary('copy', view(x, c.strides, c.offset), out, c.shape);
          const ref: number[] = [];
          forEachIndex(c.shape, (idx) => {
            ref.push(stridedGet(data, c, idx));
          });
          expect(Array.from(be.readSync(out))).toEqual(ref);
          be.disposeBuffer(x);
          be.disposeBuffer(out);
        }
      }
    });

    it('unary through permuted, offset and broadcast views (5-D too)', () => {
      const X = randomF32(2 * 3 * 4 * 5 * 6, 5, 0.1, 2);
      const x = upload(be, X);
      const cases: { shape: number[]; strides: number[]; offset: number }[] = [
        { shape: [5, 4], strides: [1, 5], offset: 3 }, // transposed
        { shape: [3, 4, 7], strides: [4, 1, 0], offset: 1 }, // broadcast last dim
        { shape: [6, 5, 4, 3, 2], strides: [1, 6, 30, 120, 360], offset: 0 }, // 5-D reversed permutation
        { shape: [2, 0, 3], strides: [1, 1, 1], offset: 0 },
      ];
      for (const c of cases) {
        const total = c.shape.reduce((a, b) => a * b, 1);
        const out = be.alloc(Math.max(total, 1), 'float32');
        be.unary('sqrt', view(x, c.strides, c.offset), out, c.shape);
        const ref = new Float32Array(total);
        forEachIndex(c.shape, (idx, flat) => {
          ref[flat] = Math.sqrt(stridedGet(X, c, idx));
        });
        expectClose(be.readSync(out).subarray(0, total), ref);
        be.disposeBuffer(out);
      }
      be.disposeBuffer(x);
    });

    it('int32 unary ops and dtype conversions', () => {
      const X = Int32Array.from([-7, -1, 0, 1, 5, 2147483647, -2147483648, 9]);
      const x = upload(be, X);
      const out = be.alloc(X.length, 'int32');
      const ref: Partial<Record<UnaryOp, (v: number) => number>> = {
        copy: (v) => v,
        neg: (v) => -v | 0,
        abs: (v) => Math.abs(v) | 0,
        sign: Math.sign,
        relu: (v) => Math.max(v, 0),
        square: (v) => Math.imul(v, v),
      };
      for (const [op, f] of Object.entries(ref)) {
        be.unary(op as UnaryOp, view(x, [1]), out, [X.length]);
        expect(Array.from(be.readSync(out)), op).toEqual(Array.from(X, (v) => f(v) | 0));
      }
      const fo = be.alloc(X.length, 'float32');
      be.unary('copy', view(x, [1]), fo, [X.length]);
      expect(Array.from(be.readSync(fo))).toEqual(Array.from(X, (v) => f32(v)));
      const F = Float32Array.from([1.9, -1.9, 0.5, -0.5, 3e9, -3e9, Number.NaN, 7]);
      const fx = upload(be, F);
      be.unary('copy', view(fx, [1]), out, [F.length]);
      expect(Array.from(be.readSync(out))).toEqual([1, -1, 0, 0, 2147483647, -2147483648, 0, 7]);
      for (const b of [x, out, fo, fx]) be.disposeBuffer(b);
    });

    const bshapes: { shape: number[]; a: number[]; b: number[] }[] = [
      { shape: [37], a: [1], b: [1] },
      { shape: [9, 13], a: [13, 1], b: [0, 1] }, // row bias
      { shape: [9, 13], a: [13, 1], b: [1, 0] }, // column broadcast
      { shape: [13, 9], a: [1, 13], b: [9, 1] }, // one transposed operand
      { shape: [4, 5], a: [0, 0], b: [5, 1] }, // scalar a
      { shape: [2, 3, 4, 5, 3], a: [180, 60, 15, 3, 1], b: [0, 1, 0, 3, 12] }, // 5-D mixed
      { shape: [300, 257], a: [257, 1], b: [0, 1] }, // threaded split
    ];
    for (const c of bshapes) {
      it(`binary float32 ops, shape [${c.shape}] strides a=[${c.a}] b=[${c.b}]`, () => {
        const spanA = c.shape.reduce((s, n, d) => s + (n - 1) * (c.a[d] as number), 1);
        const spanB = c.shape.reduce((s, n, d) => s + (n - 1) * (c.b[d] as number), 1);
        const A = randomF32(spanA, 21, 0.2, 3);
        const B = randomF32(spanB, 22, -2, 2);
        B[0] = A[0] as number; // an exact tie for the comparisons
        const a = upload(be, A);
        const b = upload(be, B);
        const total = c.shape.reduce((x, y) => x * y, 1);
        for (const op of Object.keys(binaryRef) as BinaryOp[]) {
          const out = be.alloc(total, COMPARE.has(op) ? 'int32' : 'float32');
          be.binary(op, view(a, c.a), view(b, c.b), out, c.shape);
          const ref = new Float64Array(total);
          forEachIndex(c.shape, (idx, flat) => {
            ref[flat] = f32(
              binaryRef[op](
                stridedGet(A, { offset: 0, strides: c.a }, idx),
                stridedGet(B, { offset: 0, strides: c.b }, idx),
              ),
            );
          });
          try {
            expectClose(be.readSync(out), ref, 2e-6, 1e-6);
          } catch (e) {
            throw new Error(`${op}: ${(e as Error).message}`);
          }
          be.disposeBuffer(out);
        }
        be.disposeBuffer(a);
        be.disposeBuffer(b);
      });
    }

    it('binary int32 ops with broadcasting', () => {
      const A = Int32Array.from([-7, -3, 0, 4, 9, 12, 2147483647, 5]);
      const B = Int32Array.from([2, -3, 0, 3]);
      const a = upload(be, A);
      const b = upload(be, B);
      const shape = [2, 4];
      for (const op of Object.keys(binaryRef) as BinaryOp[]) {
        const out = be.alloc(8, 'int32');
        be.binary(op, view(a, [4, 1]), view(b, [0, 1]), out, shape);
        const f = intBinaryRef[op] ?? binaryRef[op];
        const ref = Array.from(A, (v, i) => f(v, B[i % 4] as number) | 0);
        expect(Array.from(be.readSync(out)), op).toEqual(ref);
        be.disposeBuffer(out);
      }
      be.disposeBuffer(a);
      be.disposeBuffer(b);
    });

    it('where with broadcast condition, and fill', () => {
      const cond = upload(be, Int32Array.from([1, 0, 0, 7]));
      const A = randomF32(12, 31);
      const B = randomF32(3, 32);
      const a = upload(be, A);
      const b = upload(be, B);
      const out = be.alloc(12, 'float32');
      be.where(view(cond, [0, 1]), view(a, [4, 1]), view(b, [1, 0]), out, [3, 4]);
      const ref = Array.from(
        { length: 12 },
        (_, i) => ([1, 0, 0, 7][i % 4] ? A[i] : B[Math.floor(i / 4)]) as number,
      );
      expectClose(be.readSync(out), ref, 0, 0);
      be.fill(out, -2.5);
      expect(Array.from(be.readSync(out))).toEqual(new Array(12).fill(-2.5));
      be.fill(cond, 3.9);
      expect(Array.from(be.readSync(cond))).toEqual([3, 3, 3, 3]);
      for (const x of [cond, a, b, out]) be.disposeBuffer(x);
    });

    it('rejects mismatched dtypes with a message naming them', () => {
      const a = be.alloc(4, 'float32');
      const b = be.alloc(4, 'int32');
      const out = be.alloc(4, 'float32');
      expect(() => be.binary('add', view(a, [1]), view(b, [1]), out, [4])).toThrow(/float32 and int32/);
      for (const x of [a, b, out]) be.disposeBuffer(x);
    });
    void contiguous;
  });
}
