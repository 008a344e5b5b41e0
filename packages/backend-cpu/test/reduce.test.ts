import type { DType, ReduceOp } from '@nabla/core';
import { randInt, randomArray } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { fixture, randomTrials } from './helpers.js';

/** Straightforward float64 reference over [outer, size, inner]. */
function reference(op: ReduceOp, x: ArrayLike<number>, outer: number, size: number, inner: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const col = Array.from({ length: size }, (_, j) => x[(o * size + j) * inner + i]);
      if (op === 'sum') out.push(col.reduce((a, b) => a + b, 0));
      else if (op === 'max' || op === 'min') {
        out.push(col.some(Number.isNaN) ? Number.NaN : op === 'max' ? Math.max(...col) : Math.min(...col));
      } else {
        const nan = col.findIndex(Number.isNaN);
        const best = op === 'argmax' ? Math.max(...col) : Math.min(...col);
        out.push(nan >= 0 ? nan : col.indexOf(best));
      }
    }
  }
  return out;
}

describe('cpu reduce', () => {
  it('matches float64 references over random [outer, size, inner] with ties, NaN and int32', () => {
    randomTrials(11, 300, (r, { be, buf }, trial) => {
      const op = (['sum', 'max', 'min', 'argmax', 'argmin'] as const)[trial % 5];
      const outer = randInt(r, 0, 4);
      const size = op === 'sum' ? randInt(r, 0, 9) : randInt(r, 1, 9);
      const inner = randInt(r, 0, 5) || 1;
      const dtype: DType = r() < 0.3 ? 'int32' : 'float32';
      // Small integers make ties common, which is where first-index argmax matters.
      const x = randomArray(r, outer * size * inner, dtype, 3);
      if (dtype === 'float32' && r() < 0.2 && x.length > 0) x[randInt(r, 0, x.length - 1)] = Number.NaN;
      const arg = op === 'argmax' || op === 'argmin';
      const out = be.alloc(outer * inner, arg ? 'int32' : dtype);
      be.kernels.reduce({ op, x: buf(x), out, outer, size, inner });
      const expected = reference(op, x, outer, size, inner);
      const got = Array.from(be.readSync(out));
      for (let i = 0; i < expected.length; i++) {
        if (Number.isNaN(expected[i])) expect(got[i]).toBeNaN();
        else
          expect(got[i], `${op} [${outer},${size},${inner}] at ${i}`).toBeCloseTo(
            Math.fround(expected[i]),
            4,
          );
      }
    });
  });

  it('sums in float64: a float32 running sum of 1e7 + many small terms would drop them', () => {
    const { be, buf } = fixture();
    const x = new Float32Array(10001).fill(0.25);
    x[0] = 1e7;
    const out = be.alloc(1, 'float32');
    be.kernels.reduce({ op: 'sum', x: buf(x), out, outer: 1, size: x.length, inner: 1 });
    expect(be.readSync(out)[0]).toBe(1e7 + 2500);
    const cols = be.alloc(2, 'float32');
    be.kernels.reduce({
      op: 'sum',
      x: buf(new Float32Array([1e7, 1e7, ...new Float32Array(2000).fill(0.25)])),
      out: cols,
      outer: 1,
      size: 1001,
      inner: 2,
    });
    expect(Array.from(be.readSync(cols))).toEqual([1e7 + 250, 1e7 + 250]);
  });

  it('rejects empty max and float argmax outputs', () => {
    const { be, buf } = fixture();
    const x = buf(new Float32Array(0));
    expect(() =>
      be.kernels.reduce({ op: 'max', x, out: be.alloc(2, 'float32'), outer: 2, size: 0, inner: 1 }),
    ).toThrow(/cpu backend: reduce max over an empty axis/);
    const sum = be.alloc(2, 'float32');
    be.kernels.fill({ out: sum, value: 5 });
    be.kernels.reduce({ op: 'sum', x, out: sum, outer: 2, size: 0, inner: 1 });
    expect(Array.from(be.readSync(sum))).toEqual([0, 0]);
    expect(() =>
      be.kernels.reduce({
        op: 'argmax',
        x: buf(new Float32Array(4)),
        out: be.alloc(2, 'float32'),
        outer: 2,
        size: 2,
        inner: 1,
      }),
    ).toThrow(/reduce argmax writes 2 int32, output is 2 float32/);
  });
});
