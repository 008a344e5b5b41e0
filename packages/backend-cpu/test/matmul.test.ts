import { randInt, randomArray, refMatmul, rng } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { fixture, randomTrials } from './helpers.js';

describe('cpu matmul', () => {
  it('matches the reference for all transpose forms, edge tiles, batch and broadcast strides', () => {
    randomTrials(21, 120, (r, { be, buf }) => {
      const m = randInt(r, 0, 11);
      const n = randInt(r, 0, 11);
      const k = randInt(r, 0, 13);
      const batch = randInt(r, 0, 3);
      const transA = r() < 0.5;
      const transB = r() < 0.5;
      const strideA = r() < 0.3 ? 0 : m * k;
      const strideB = r() < 0.3 ? 0 : k * n;
      const args = { batch, m, n, k, transA, transB, strideA, strideB };
      const a = randomArray(r, Math.max(1, batch) * m * k, 'float32') as Float32Array;
      const b = randomArray(r, Math.max(1, batch) * k * n, 'float32') as Float32Array;
      const out = be.alloc(batch * m * n, 'float32');
      be.kernels.fill({ out, value: Number.NaN }); // every element must be written
      be.kernels.matmul({ a: buf(a), b: buf(b), out, ...args });
      const got = be.readSync(out);
      const want = refMatmul(a, b, args);
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(got[i] - want[i]), `${JSON.stringify(args)} at ${i}`).toBeLessThan(
          1e-4 * (1 + Math.abs(want[i])),
        );
      }
    });
  });

  it('is correct past one K block (k > 256), row block (m > 64), column block (n > 1024), and for m < 4', () => {
    const r = rng(22);
    const { be, buf } = fixture();
    for (const [m, n, k, transA, transB] of [
      [70, 9, 300, false, false],
      [67, 13, 513, true, true],
      [5, 66, 257, false, true],
      [130, 3, 260, true, false],
      [3, 1030, 5, false, true],
      [6, 1027, 260, true, false],
      // Fewer rows than a micro-tile: the unpacked path, both B layouts.
      [1, 300, 517, false, true],
      [2, 1030, 9, true, false],
      [3, 7, 301, true, true],
    ] as const) {
      const args = { batch: 1, m, n, k, transA, transB, strideA: 0, strideB: 0 };
      const a = randomArray(r, m * k, 'float32', 1) as Float32Array;
      const b = randomArray(r, k * n, 'float32', 1) as Float32Array;
      const out = be.alloc(m * n, 'float32');
      be.kernels.matmul({ a: buf(a), b: buf(b), out, ...args });
      const got = be.readSync(out);
      const want = refMatmul(a, b, args);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst, `[${m},${k}]·[${k},${n}] ${transA} ${transB}`).toBeLessThan(1e-4);
    }
  });

  it('reports undersized operands with the shapes involved', () => {
    const { be, buf } = fixture();
    expect(() =>
      be.kernels.matmul({
        a: buf(new Float32Array(5)),
        b: buf(new Float32Array(6)),
        out: be.alloc(4, 'float32'),
        batch: 1,
        m: 2,
        n: 2,
        k: 3,
        transA: false,
        transB: false,
        strideA: 6,
        strideB: 6,
      }),
    ).toThrow(/matmul A \(batch 1, \[2, 3\]\) holds 5 elements, the kernel needs 6/);
  });
});
