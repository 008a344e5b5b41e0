/** The fallback used where `new Function` is forbidden (CSP without 'unsafe-eval'). */
import type { BinaryOp, ReduceOp, UnaryOp } from '@nabla/core';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelStats, setCodegen } from '../src/kernels/codegen.js';
import { BINARY_OPS, UNARY_OPS } from '../src/kernels/elementwise.js';
import { fixture, prod, randInt, randomArray, randomView, rng } from './helpers.js';

/** Runs a fixed, seeded workload through every kernel family and returns all outputs. */
function workload(): number[][] {
  const r = rng(71);
  const { be, buf } = fixture();
  const results: number[][] = [];
  const shape = [3, 1, 4, 2];
  for (const op of UNARY_OPS as UnaryOp[]) {
    const x = randomView(r, shape, 'float32');
    const out = be.alloc(prod(shape), 'float32');
    be.unary(op, { buffer: buf(x.data), offset: x.offset, strides: x.strides }, out, shape);
    results.push(Array.from(be.readSync(out)));
  }
  for (const dtype of ['int32', 'float32'] as const) {
    for (const op of BINARY_OPS as BinaryOp[]) {
      const a = randomView(r, shape, dtype);
      const b = randomView(r, shape, dtype);
      const out = be.alloc(
        prod(shape),
        dtype === 'int32' || ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op) ? 'int32' : 'float32',
      );
      be.binary(
        op,
        { buffer: buf(a.data), offset: a.offset, strides: a.strides },
        { buffer: buf(b.data), offset: b.offset, strides: b.strides },
        out,
        shape,
      );
      results.push(Array.from(be.readSync(out)));
    }
  }
  // A large transposed read takes the tiled loop.
  const big = randomArray(r, 40 * 37, 'float32');
  const tOut = be.alloc(40 * 37, 'float32');
  be.unary('exp', { buffer: buf(big), offset: 0, strides: [1, 40] }, tOut, [40, 37]);
  results.push(Array.from(be.readSync(tOut)));
  for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as ReduceOp[]) {
    for (const inner of [1, 3]) {
      const x = randomArray(r, 2 * 5 * inner, 'float32', 2);
      const out = be.alloc(2 * inner, op.startsWith('arg') ? 'int32' : 'float32');
      be.reduce(op, buf(x), out, 2, 5, inner);
      results.push(Array.from(be.readSync(out)));
    }
  }
  const [m, n, k] = [9, 7, 300];
  const out = be.alloc(m * n, 'float32');
  be.linear(
    buf(randomArray(r, m * k, 'float32', 1)),
    buf(randomArray(r, n * k, 'float32', 1)),
    buf(randomArray(r, n, 'float32', 1)),
    out,
    m,
    n,
    k,
    true,
  );
  results.push(Array.from(be.readSync(out)));
  results.push([randInt(r, 0, 1000)]); // the generator stayed in step
  return results;
}

describe('cpu kernels without code generation', () => {
  afterAll(() => setCodegen(true));

  it('give bit-identical results to the generated kernels', () => {
    setCodegen(true);
    const generated = workload();
    expect(kernelStats().interpreted).toBe(0);
    expect(kernelStats().generated).toBeGreaterThan(30);
    setCodegen(false);
    const interpreted = workload();
    expect(kernelStats().generated).toBe(0);
    expect(kernelStats().interpreted).toBeGreaterThan(30);
    expect(interpreted).toEqual(generated);
  });
});
