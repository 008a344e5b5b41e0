/** The fallback used where `new Function` is forbidden (CSP without 'unsafe-eval'). */
import {
  BINARY_FNS,
  type BinaryFn,
  E,
  type Expr,
  pointwiseProgram,
  type ReduceOp,
  UNARY_FNS,
  type UnaryFn,
} from '@nabla/core';
import { randInt, randomArray, rng } from '@nabla/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelStats, setCodegen } from '../src/kernels/codegen.js';
import { fixture, prod, randomView } from './helpers.js';

/** Runs a fixed, seeded workload through every kernel family and returns all outputs. */
function workload(): number[][] {
  const r = rng(71);
  const { be, buf } = fixture();
  const results: number[][] = [];
  const shape = [3, 1, 4, 2];
  const view = (x: { data: Float32Array | Int32Array; offset: number; strides: number[] }) => ({
    buffer: buf(x.data),
    offset: x.offset,
    strides: x.strides,
  });
  const UNARY: readonly UnaryFn[] = UNARY_FNS;
  for (const fn of UNARY) {
    const x = randomView(r, shape, 'float32');
    const program = pointwiseProgram(`i-${fn}`, {
      inputs: ['float32'],
      outputs: [(E[fn] as (x: Expr) => Expr)(E.input(0))],
    });
    const out = be.alloc(prod(shape), 'float32');
    be.kernels.pointwise({ program, inputs: [view(x)], scalars: [], outputs: [out], shape });
    results.push(Array.from(be.readSync(out)));
  }
  const BINARY: readonly BinaryFn[] = BINARY_FNS;
  for (const dtype of ['int32', 'float32'] as const) {
    for (const fn of BINARY) {
      if (fn === 'pow' && dtype === 'int32') continue;
      const a = randomView(r, shape, dtype);
      const b = randomView(r, shape, dtype);
      // Several outputs, a per-call scalar, a select and a cast in one program.
      const y = E[fn](E.input(0, dtype), E.input(1, dtype));
      const program = pointwiseProgram(`i-${fn}`, {
        inputs: [dtype, dtype],
        scalars: [dtype],
        outputs: [y, E.select(E.gt(E.input(0, dtype), E.scalar(0, dtype)), E.cast(y, 'float32'), 0)],
      });
      const outs = program.outputDtypes.map((d) => be.alloc(prod(shape), d));
      be.kernels.pointwise({ program, inputs: [view(a), view(b)], scalars: [1.5], outputs: outs, shape });
      for (const o of outs) results.push(Array.from(be.readSync(o)));
    }
  }
  // A large transposed read takes the tiled loop.
  const big = randomArray(r, 40 * 37, 'float32');
  const tOut = be.alloc(40 * 37, 'float32');
  const exp = pointwiseProgram('i-exp', { inputs: ['float32'], outputs: [E.exp(E.input(0))] });
  be.kernels.pointwise({
    program: exp,
    inputs: [{ buffer: buf(big), offset: 0, strides: [1, 40] }],
    scalars: [],
    outputs: [tOut],
    shape: [40, 37],
  });
  results.push(Array.from(be.readSync(tOut)));
  for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as ReduceOp[]) {
    for (const inner of [1, 3]) {
      const x = randomArray(r, 2 * 5 * inner, 'float32', 2);
      const out = be.alloc(2 * inner, op.startsWith('arg') ? 'int32' : 'float32');
      be.kernels.reduce({ op, x: buf(x), out, outer: 2, size: 5, inner });
      results.push(Array.from(be.readSync(out)));
    }
  }
  const [m, n, k] = [9, 7, 300];
  const out = be.alloc(m * n, 'float32');
  be.kernels.linear({
    x: buf(randomArray(r, m * k, 'float32', 1)),
    w: buf(randomArray(r, n * k, 'float32', 1)),
    bias: buf(randomArray(r, n, 'float32', 1)),
    out,
    m,
    n,
    k,
    relu: true,
  });
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
