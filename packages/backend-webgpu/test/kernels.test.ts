/** Primitive kernels against float64 reference loops, at small sizes (software Vulkan is slow). */
import {
  type BinaryFn,
  contiguousStrides,
  E,
  type Expr,
  erf64 as erf,
  pointwiseProgram,
  type ReduceOp,
} from '@nabla/core';
import {
  expectClose,
  matmulArgs,
  randomNumbers,
  readBack,
  refBinary,
  refMatmul,
  rng,
  upload,
  view,
} from '@nabla/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { f32, openBackend, prog, pw } from './helpers.js';

const backend = await openBackend();

describe.skipIf(!backend)('webgpu primitive kernels', () => {
  const b = backend!;
  afterAll(() => b.destroy());

  // Each case: a program built from the expression language and a float64 reference.
  const sigmoid = (x: Expr) => E.recip(E.add(E.exp(E.neg(x)), 1));
  const unaryCases: [string, (x: Expr) => Expr, (x: number) => number][] = [
    ['copy', (x) => x, (x) => x],
    ['neg', E.neg, (x) => -x],
    ['abs', E.abs, Math.abs],
    ['sign', E.sign, Math.sign],
    ['exp', E.exp, Math.exp],
    ['log', E.log, Math.log],
    ['log1p', E.log1p, Math.log1p],
    ['sqrt', E.sqrt, Math.sqrt],
    ['rsqrt', E.rsqrt, (x) => 1 / Math.sqrt(x)],
    ['relu', (x) => E.select(E.lt(x, 0), 0, x), (x) => (x < 0 ? 0 : x)],
    ['sigmoid', sigmoid, (x) => 1 / (1 + Math.exp(-x))],
    ['tanh', E.tanh, Math.tanh],
    ['erf', E.erf, erf],
    ['floor', E.floor, Math.floor],
    ['square', (x) => E.mul(x, x), (x) => x * x],
    ['recip', E.recip, (x) => 1 / x],
  ];

  it('unary float32 ops on a transposed view match float64', async () => {
    // x is stored [3, 4]; the op reads its transpose [4, 3] through strides.
    const xs = f32(randomNumbers(12, 1, -4, 4));
    xs[0] = 0;
    xs[5] = -30; // sigmoid/tanh far tails
    xs[7] = 30;
    xs[9] = Number.NaN; // propagates through every op
    const x = upload(b, xs);
    for (const [op, f, ref] of unaryCases) {
      const out = b.alloc(12, 'float32');
      pw(b, prog(op, 1, f), [view(x, [1, 4])], out, [4, 3]);
      const expected: number[] = [];
      for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) expected.push(ref(xs[j * 4 + i]));
      expectClose(await readBack(b, out), f32(expected), 1e-5, 1e-6, op);
      b.disposeBuffer(out);
    }
  });

  it('unary int32 ops and dtype conversion by copy', async () => {
    const xs = [-3, 0, 7, -2147483647, 5];
    const x = upload(b, xs, 'int32');
    const cases: [string, (x: Expr) => Expr, (v: number) => number][] = [
      ['neg', E.neg, (v) => -v],
      ['abs', E.abs, Math.abs],
      ['sign', E.sign, Math.sign],
      ['relu', (v) => E.select(E.lt(v, 0), 0, v), (v) => Math.max(v, 0)],
      ['square', (v) => E.mul(v, v), (v) => Math.imul(v, v)],
    ];
    for (const [op, f, ref] of cases) {
      const out = b.alloc(5, 'int32');
      pw(b, prog(`${op}-i`, 1, f, 'int32'), [view(x, [1])], out, [5]);
      expect(await readBack(b, out), op).toEqual(xs.map((v) => ref(v) | 0));
    }
    const asFloat = b.alloc(5, 'float32');
    pw(
      b,
      prog('float', 1, (v) => E.cast(v, 'float32'), 'int32'),
      [view(x, [1])],
      asFloat,
      [5],
    );
    expect(await readBack(b, asFloat)).toEqual(f32(xs));
    const fl = upload(b, [-2.7, -0.5, 0.5, 3.9, Number.NaN, 3e9, -3e9, Number.POSITIVE_INFINITY]);
    const asInt = b.alloc(8, 'int32');
    pw(
      b,
      prog('int', 1, (v) => E.cast(v, 'int32')),
      [view(fl, [1])],
      asInt,
      [8],
    );
    // Truncation toward zero, wrapping modulo 2^32 like Int32Array; NaN and inf give 0.
    expect(await readBack(b, asInt)).toEqual(Array.from(Int32Array.from([-2, 0, 0, 3, 0, 3e9, -3e9, 0])));
    const root = b.alloc(3, 'float32'); // float-only math on int32 input: cast first
    pw(
      b,
      prog('sqrt-i', 1, (v) => E.sqrt(E.cast(v, 'float32')), 'int32'),
      [view(x, [1], 1)],
      root,
      [3],
    );
    expectClose(await readBack(b, root), [0, Math.sqrt(7), Number.NaN]);
  });

  it('binary ops broadcast [2,3,1] against [1,4] (stride 0) and match float64', async () => {
    const as = [-2, 0, 1.5, 3, Number.NaN, 2];
    const bs = [2, 3, 0, -1];
    const a = upload(b, as); // [2,3,1]
    const bb = upload(b, bs); // [4]
    for (const op of Object.keys(refBinary) as BinaryFn[]) {
      const cmp = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op);
      const out = b.alloc(24, cmp ? 'int32' : 'float32');
      pw(b, prog(op, 2, E[op]), [view(a, [3, 1, 0]), view(bb, [0, 0, 1])], out, [2, 3, 4]);
      const expected: number[] = [];
      for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) expected.push(refBinary[op](as[i], bs[j]));
      expectClose(await readBack(b, out), cmp ? expected : f32(expected), 1e-5, 1e-6, op);
      b.disposeBuffer(out);
    }
  });

  it('binary with a stride-0 operand, an offset view, per-call scalars and int32 arithmetic', async () => {
    const a = upload(b, [10, 20, 30, 40, 50, 60]);
    const s = upload(b, [0, 0.5]);
    const out = b.alloc(4, 'float32');
    pw(b, prog('mul', 2, E.mul), [view(a, [1], 2), view(s, [0], 1)], out, [4]);
    expect(await readBack(b, out)).toEqual([15, 20, 25, 30]);
    const axpb = pointwiseProgram('t-axpb', {
      inputs: ['float32'],
      scalars: ['float32', 'int32'],
      outputs: [E.add(E.mul(E.input(0), E.scalar(0)), E.cast(E.scalar(1, 'int32'), 'float32'))],
    });
    pw(b, axpb, [view(a, [1])], out, [4], [0.25, -3]);
    expect(await readBack(b, out)).toEqual([-0.5, 2, 4.5, 7]);
    const ia = upload(b, [7, -7, 9, 5], 'int32');
    const ib = upload(b, [2, 2, 0, -3], 'int32');
    const iout = b.alloc(4, 'int32');
    pw(b, prog('div-i', 2, E.div, 'int32'), [view(ia, [1]), view(ib, [1])], iout, [4]);
    expect(await readBack(b, iout)).toEqual([3, -3, 0, -1]);
    pw(b, prog('add-i', 2, E.add, 'int32'), [view(ia, [1]), view(ib, [1])], iout, [4]);
    expect(await readBack(b, iout)).toEqual([9, -5, 9, 2]);
  });

  it('select broadcasts cond, a and b; rank-6 strided views work', async () => {
    const cond = upload(b, [1, 0, 1], 'int32');
    const a = upload(b, [1, 2, 3, 4, 5, 6]);
    const bb = upload(b, [-1, -2]);
    const out = b.alloc(6, 'float32');
    // shape [2, 3]: cond broadcast over rows, b broadcast over columns.
    const select = pointwiseProgram('t-select', {
      inputs: ['int32', 'float32', 'float32'],
      outputs: [E.select(E.input(0, 'int32'), E.input(1), E.input(2))],
    });
    pw(b, select, [view(cond, [0, 1]), view(a, [3, 1]), view(bb, [1, 0])], out, [2, 3]);
    expect(await readBack(b, out)).toEqual([1, -1, 3, 4, -2, 6]);
    // A permuted rank-6 view (shape 2x1x2x2x1x2 with reversed strides) cannot collapse.
    const shape = [2, 3, 2, 2, 3, 2];
    const n = shape.reduce((p, q) => p * q, 1);
    const xs = f32(randomNumbers(n, 9));
    const x = upload(b, xs);
    const st = contiguousStrides([...shape].reverse()).reverse();
    const o6 = b.alloc(n, 'float32');
    pw(b, prog('neg', 1, E.neg), [view(x, st)], o6, shape);
    const expected: number[] = [];
    const idx = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      let r = i;
      for (let d = 5; d >= 0; d--) {
        idx[d] = r % shape[d];
        r = Math.floor(r / shape[d]);
      }
      expected.push(-xs[idx.reduce((acc, v, d) => acc + v * st[d], 0)]);
    }
    expect(await readBack(b, o6)).toEqual(expected);
  });

  it('random strided, permuted, broadcast and offset views agree with a reference walk', async () => {
    const rnd = rng(2024);
    const int = (lo: number, hi: number) => lo + Math.floor(rnd(0, 1) * (hi - lo + 1));
    for (let trial = 0; trial < 30; trial++) {
      const rank = int(0, 5);
      const shape = Array.from({ length: rank }, () => int(1, 4));
      const n = shape.reduce((p, q) => p * q, 1);
      // Each input: a buffer holding a permuted layout of the shape, some dims broadcast, at an offset.
      const makeView = () => {
        const order = [...shape.keys()].sort(() => rnd() - 0.5);
        const strides = new Array<number>(rank).fill(0);
        let acc = 1;
        for (const d of order.reverse()) {
          const broadcast = rnd(0, 1) < 0.25;
          strides[d] = broadcast ? 0 : acc;
          if (!broadcast) acc *= shape[d];
        }
        // A step of 2 walks every other element, like a column or a strided slice.
        const step = int(1, 2);
        const offset = int(0, 3);
        const data = f32(randomNumbers(offset + acc * step, trial * 7 + offset));
        return { data, strides: strides.map((st) => st * step), offset };
      };
      const va = makeView();
      const vb = makeView();
      const A = upload(b, va.data);
      const B = upload(b, vb.data);
      const out = b.alloc(n, 'float32');
      pw(
        b,
        prog('sub', 2, E.sub),
        [view(A, va.strides, va.offset), view(B, vb.strides, vb.offset)],
        out,
        shape,
      );
      const expected: number[] = [];
      for (let i = 0; i < n; i++) {
        let r = i;
        let ia = va.offset;
        let ib = vb.offset;
        for (let d = rank - 1; d >= 0; d--) {
          const c = r % shape[d];
          r = Math.floor(r / shape[d]);
          ia += c * va.strides[d];
          ib += c * vb.strides[d];
        }
        expected.push(va.data[ia] - vb.data[ib]);
      }
      expectClose(await readBack(b, out), f32(expected), 1e-6, 1e-7, `trial ${trial} shape [${shape}]`);
      for (const buf of [A, B, out]) b.disposeBuffer(buf);
    }
  });

  function refReduce(op: ReduceOp, xs: number[], outer: number, size: number, inner: number): number[] {
    const out: number[] = [];
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const vals = Array.from({ length: size }, (_, j) => xs[(o * size + j) * inner + i]);
        if (op === 'sum') out.push(vals.reduce((p, q) => p + q, 0));
        else if (op === 'max') out.push(vals.some(Number.isNaN) ? Number.NaN : Math.max(...vals));
        else if (op === 'min') out.push(vals.some(Number.isNaN) ? Number.NaN : Math.min(...vals));
        else {
          let best = 0;
          for (let j = 1; j < size; j++) {
            const better = op === 'argmax' ? vals[j] > vals[best] : vals[j] < vals[best];
            if (!Number.isNaN(vals[best]) && (Number.isNaN(vals[j]) || better)) best = j;
          }
          out.push(best);
        }
      }
    return out;
  }

  for (const [outer, size, inner] of [
    [3, 5, 2],
    [2, 300, 3],
    [1, 1, 7],
    [2, 9000, 2], // few outputs, long axis: two-stage chunked reduction
  ] as const) {
    it(`reduce sum/max/min/argmax/argmin over [${outer}, ${size}, ${inner}]`, async () => {
      const xs = f32(randomNumbers(outer * size * inner, size).map((v) => Math.round(v * 8) / 2)); // ties likely
      const x = upload(b, xs);
      for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as ReduceOp[]) {
        const arg = op.startsWith('arg');
        const out = b.alloc(outer * inner, arg ? 'int32' : 'float32');
        const before = b.stats.dispatches;
        b.kernels.reduce({ op, x, out, outer, size, inner });
        expect(b.stats.dispatches - before, `${op} stages`).toBe(size >= 8192 && !arg ? 2 : 1);
        expectClose(await readBack(b, out), refReduce(op, xs, outer, size, inner), 1e-5, 1e-4, op);
      }
    });
  }

  it('reduce propagates NaN, sums an empty axis to 0 and reduces int32', async () => {
    const x = upload(b, [1, Number.NaN, 3, 4, 5, 6]);
    const out = b.alloc(2, 'float32');
    b.kernels.reduce({ op: 'max', x, out, outer: 2, size: 3, inner: 1 });
    expectClose(await readBack(b, out), [Number.NaN, 6]);
    const am = b.alloc(2, 'int32');
    b.kernels.reduce({ op: 'argmax', x, out: am, outer: 2, size: 3, inner: 1 });
    expect(await readBack(b, am)).toEqual([1, 2]);
    const empty = b.alloc(0, 'float32');
    const z = b.alloc(4, 'float32');
    b.kernels.reduce({ op: 'sum', x: empty, out: z, outer: 2, size: 0, inner: 2 });
    expect(await readBack(b, z)).toEqual([0, 0, 0, 0]);
    const xi = upload(b, [3, -9, 4, 2], 'int32');
    const oi = b.alloc(2, 'int32');
    b.kernels.reduce({ op: 'min', x: xi, out: oi, outer: 1, size: 2, inner: 2 });
    expect(await readBack(b, oi)).toEqual([3, -9]);
  });

  // x·y + 0.5 reduced, then the epilogue acc / d + 1 (d broadcast over outer): fused into the
  // reduce shader it must give the bits of the three-kernel composition it replaced.
  const mulAdd = pointwiseProgram('t-rp-mul-add', {
    inputs: ['float32', 'float32'],
    scalars: ['float32'],
    outputs: [E.add(E.mul(E.input(0), E.input(1)), E.scalar(0))],
  });
  const divInc = pointwiseProgram('t-rp-div-inc', {
    inputs: ['float32', 'float32'],
    outputs: [E.add(E.div(E.input(0), E.input(1)), E.const(1))],
  });
  for (const [outer, size, inner, dispatches] of [
    [3, 5, 2, 1], // one invocation per output
    [2, 300, 3, 1], // one workgroup per output
    [1, 9000, 2, 2], // two-stage chunked: partials, then the epilogue's stage
  ] as const) {
    it(`reduce of a program with an epilogue over [${outer}, ${size}, ${inner}]: ${dispatches} dispatch(es), the staged bits`, async () => {
      const n = outer * size * inner;
      const x = upload(b, f32(randomNumbers(n, 91)));
      // y is [size, 1] broadcast over outer and inner; d is [inner] broadcast over outer
      const y = upload(b, f32(randomNumbers(size, 92)));
      const d = upload(b, f32(randomNumbers(inner, 93, 1, 2)));
      const xv = view(x, [size * inner, inner, 1]);
      const yv = view(y, [0, 1, 0]);
      const dv = view(d, [0, 1]);
      for (const op of ['sum', 'max', 'min'] as const) {
        const out = b.alloc(outer * inner, 'float32');
        const before = b.stats.dispatches;
        b.kernels.reduce({
          op,
          input: { program: mulAdd, inputs: [xv, yv], scalars: [0.5] },
          epilogue: { program: divInc, inputs: [dv], scalars: [] },
          out,
          outer,
          size,
          inner,
        });
        expect(b.stats.dispatches - before, op).toBe(dispatches);
        const values = b.alloc(n, 'float32');
        pw(b, mulAdd, [xv, yv], values, [outer, size, inner], [0.5]);
        const acc = b.alloc(outer * inner, 'float32');
        b.kernels.reduce({ op, x: values, out: acc, outer, size, inner });
        const staged = b.alloc(outer * inner, 'float32');
        pw(b, divInc, [view(acc, [inner, 1]), dv], staged, [outer, inner]);
        expect(await readBack(b, out), op).toEqual(await readBack(b, staged));
      }
    });
  }

  it('reduce of a program over the storage-binding limit runs staged (three dispatches), same values', async () => {
    // fused, the shader binds every input and extra buffer plus out: one over the limit; apart,
    // the pointwise input (half + scratch) and the epilogue (acc + the rest + out) each fit
    const limit = b.capabilities.maxPointwiseBuffers as number;
    const half = Math.floor(limit / 2);
    const rest = limit - half;
    const sum = (k: number, from: number) =>
      Array.from({ length: k }, (_, j) => E.input(from + j)).reduce((p, q) => E.add(p, q));
    const input = pointwiseProgram('t-rp-wide-in', {
      inputs: Array(half).fill('float32'),
      outputs: [sum(half, 0)],
    });
    const epi = pointwiseProgram('t-rp-wide-epi', {
      inputs: Array(rest + 1).fill('float32'),
      outputs: [sum(rest + 1, 0)],
    });
    const [outer, size] = [2, 3];
    const ins = Array.from({ length: half }, (_, k) => f32(randomNumbers(outer * size, 100 + k)));
    const extras = Array.from({ length: rest }, (_, k) => f32(randomNumbers(outer, 200 + k)));
    const out = b.alloc(outer, 'float32');
    const before = b.stats.dispatches;
    b.kernels.reduce({
      op: 'sum',
      input: { program: input, inputs: ins.map((v) => view(upload(b, v), [size, 1, 0])), scalars: [] },
      epilogue: { program: epi, inputs: extras.map((v) => view(upload(b, v), [1, 0])), scalars: [] },
      out,
      outer,
      size,
      inner: 1,
    });
    expect(b.stats.dispatches - before).toBe(3);
    const want = Array.from({ length: outer }, (_, o) => {
      let acc = 0;
      for (let r = 0; r < size; r++) acc += ins.reduce((p, v) => p + v[o * size + r], 0);
      return extras.reduce((p, v) => p + v[o], acc);
    });
    expectClose(await readBack(b, out), want, 1e-5, 1e-5);
  });

  for (const [m, n, k] of [
    [5, 3, 7],
    [37, 45, 19],
  ] as const) {
    it(`matmul ${m}x${k}·${k}x${n}, all transpose forms, batched with a broadcast operand`, async () => {
      const batch = 2;
      const as = f32(randomNumbers(batch * m * k, m));
      const bs = f32(randomNumbers(batch * k * n, n));
      const A = upload(b, as);
      const B = upload(b, bs);
      for (const transA of [false, true])
        for (const transB of [false, true]) {
          // A varies over the batch and B is broadcast; then the other way round.
          const args = transA
            ? { batch, m, n, k, transA, transB, strideA: m * k, strideB: 0 }
            : { batch, m, n, k, transA, transB, strideA: 0, strideB: k * n };
          const out = b.alloc(batch * m * n, 'float32');
          b.kernels.matmul({ a: A, b: B, out, ...args });
          expectClose(
            await readBack(b, out),
            refMatmul(as, bs, args),
            1e-5,
            1e-5,
            `tA=${transA} tB=${transB}`,
          );
          b.disposeBuffer(out);
        }
    });
  }

  it('matmul with k = 0 writes zeros; int32 matmul is exact', async () => {
    const A = b.alloc(0, 'float32');
    const out = b.alloc(6, 'float32');
    b.kernels.fill({ out, value: 5 });
    b.kernels.matmul(matmulArgs(A, A, out, { m: 2, n: 3, k: 0 }));
    expect(await readBack(b, out)).toEqual([0, 0, 0, 0, 0, 0]);
    const ia = upload(b, [1, 2, 3, 4], 'int32');
    const io = b.alloc(4, 'int32');
    b.kernels.matmul(matmulArgs(ia, ia, io, { m: 2, n: 2, k: 2 }));
    expect(await readBack(b, io)).toEqual([7, 10, 15, 22]);
  });

  it('gather and scatterAdd (repeated indices accumulate)', async () => {
    // x: [outer=2, size=3, inner=2], index: [2, k=4, 2]
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const idx = [2, 0, 0, 0, 1, 2, 2, 2, 0, 1, 1, 1, 2, 2, 0, 0];
    const x = upload(b, xs);
    const index = upload(b, idx, 'int32');
    const out = b.alloc(16, 'float32');
    b.kernels.gather({ x, index, out, outer: 2, size: 3, k: 4, inner: 2 });
    const expected: number[] = [];
    for (let o = 0; o < 2; o++)
      for (let j = 0; j < 4; j++)
        for (let i = 0; i < 2; i++) expected.push(xs[(o * 3 + idx[(o * 4 + j) * 2 + i]) * 2 + i]);
    expect(await readBack(b, out)).toEqual(expected);
    const src = upload(
      b,
      randomNumbers(16, 4).map((v) => Math.round(v * 10)),
    );
    const srcVals = await readBack(b, src);
    const acc = b.alloc(12, 'float32');
    b.kernels.fill({ out: acc, value: 99 }); // scatterAdd must zero first
    b.kernels.scatterAdd({ src, index, out: acc, outer: 2, size: 3, k: 4, inner: 2 });
    const ref = new Array(12).fill(0);
    for (let o = 0; o < 2; o++)
      for (let j = 0; j < 4; j++)
        for (let i = 0; i < 2; i++)
          ref[(o * 3 + idx[(o * 4 + j) * 2 + i]) * 2 + i] += srcVals[(o * 4 + j) * 2 + i];
    expect(await readBack(b, acc)).toEqual(ref);
  });

  it('fill writes float32 and int32 constants', async () => {
    const f = b.alloc(5, 'float32');
    b.kernels.fill({ out: f, value: -1.25 });
    expect(await readBack(b, f)).toEqual([-1.25, -1.25, -1.25, -1.25, -1.25]);
    const i = b.alloc(3, 'int32');
    b.kernels.fill({ out: i, value: -7 });
    expect(await readBack(b, i)).toEqual([-7, -7, -7]);
  });
});
