/**
 * Reductions of pointwise programs (`ReduceArgs.input`/`.epilogue`): the run-time compiled
 * loop agrees with the cpu backend on every tail length, stride pattern, op and dtype, and
 * allocates nothing; the fallback without run-time code (which does use scratch) agrees too.
 */
import { createCpuBackend } from '@nabla/backend-cpu';
import {
  type Backend,
  type BackendBuffer,
  type DType,
  E,
  type PointwiseProgram,
  pointwiseProgram,
  type ReduceArgs,
  type ReduceExpression,
} from '@nabla/core';
import { expectClose, randomF32, rng, upload } from '@nabla/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../src/backend.js';
import { reduceJitErrors } from '../src/kernels/reduce-jit.js';
import type { Runtime } from '../src/runtime.js';

const mulAdd = pointwiseProgram('wasm-rp-mul-add', {
  inputs: ['float32', 'float32'],
  scalars: ['float32'],
  outputs: [E.add(E.mul(E.input(0), E.input(1)), E.scalar(0))],
});
const kept = pointwiseProgram('wasm-rp-kept', {
  inputs: ['int32'],
  scalars: ['int32'],
  outputs: [
    E.select(E.ne(E.input(0, 'int32'), E.scalar(0, 'int32')), E.const(1, 'int32'), E.const(0, 'int32')),
  ],
});
const expOf = pointwiseProgram('wasm-rp-exp', {
  inputs: ['float32'],
  outputs: [E.exp(E.input(0))],
});
/** The mean over kept rows: reduced / max(count, 1), scaled by a scalar. */
const meanOf = pointwiseProgram('wasm-rp-mean', {
  inputs: ['float32', 'int32'],
  scalars: ['float32'],
  outputs: [
    E.mul(E.div(E.input(0), E.cast(E.max(E.input(1, 'int32'), E.const(1, 'int32')), 'float32')), E.scalar(0)),
  ],
});
const toFloat = pointwiseProgram('wasm-rp-tofloat', {
  inputs: ['int32'],
  outputs: [E.mul(E.cast(E.input(0, 'int32'), 'float32'), E.const(0.5))],
});

/** The reduce arguments of a program reduction. */
type ProgramArgs = Extract<ReduceArgs, { readonly input: ReduceExpression }>;

interface Operand {
  data: Float32Array | Int32Array;
  strides: number[];
  offset?: number;
}
interface Case {
  op: 'sum' | 'max' | 'min';
  program: PointwiseProgram;
  inputs: Operand[];
  scalars?: number[];
  epilogue?: { program: PointwiseProgram; inputs: Operand[]; scalars?: number[] };
  shape: [number, number, number];
}

/** Uploads `c`'s operands to `be`: the reduce call's arguments and the buffers to dispose. */
function prepare(be: Backend, c: Case): { args: ProgramArgs; buffers: BackendBuffer[] } {
  const buffers: BackendBuffer[] = [];
  const views = (xs: Operand[], dtypes: readonly DType[]) =>
    xs.map((x, k) => {
      const buffer = upload(be, x.data, dtypes[k]);
      buffers.push(buffer);
      return { buffer, offset: x.offset ?? 0, strides: x.strides };
    });
  const [outer, size, inner] = c.shape;
  const dtype = c.epilogue?.program.outputDtypes[0] ?? c.program.outputDtypes[0];
  const out = be.alloc(outer * inner, dtype);
  buffers.push(out);
  const args: ProgramArgs = {
    op: c.op,
    input: { program: c.program, inputs: views(c.inputs, c.program.inputs), scalars: c.scalars ?? [] },
    epilogue: c.epilogue && {
      program: c.epilogue.program,
      inputs: views(c.epilogue.inputs, c.epilogue.program.inputs.slice(1)),
      scalars: c.epilogue.scalars ?? [],
    },
    out,
    outer,
    size,
    inner,
  };
  return { args, buffers };
}

/** Runs `c` on `be`: the output, and the buffers to dispose. */
function run(be: Backend, c: Case): { out: ArrayLike<number>; buffers: BackendBuffer[] } {
  const { args, buffers } = prepare(be, c);
  be.kernels.reduce(args);
  return { out: be.readSync?.(args.out) as ArrayLike<number>, buffers };
}

function cases(): Case[] {
  const list: Case[] = [];
  // tails 0..3 after whole vectors, row and column reductions, a strided and a broadcast input
  for (const shape of [
    [1, 1, 1],
    [2, 3, 1],
    [3, 37, 1],
    [1, 256, 1],
    [4, 9, 5],
    [2, 0, 3],
  ] as [number, number, number][]) {
    const [outer, size, inner] = shape;
    const n = Math.max(1, outer * size * inner);
    const x = randomF32(n, outer * 131 + size * 17 + inner);
    x[Math.floor(n / 2)] = 3.5; // a clear extreme
    // x read transposed within each outer block ([o][i][r] storage): r has stride inner
    const xT = { data: x, strides: [size * inner, 1, size] };
    const y = { data: randomF32(Math.max(1, size), 7 + size), strides: [0, 1, 0] }; // broadcast over o, i
    for (const op of ['sum', 'max', 'min'] as const) {
      if (size === 0 && op !== 'sum') continue;
      list.push({ op, program: mulAdd, inputs: [xT, y], scalars: [0.25], shape });
      list.push({ op, program: expOf, inputs: [{ data: x, strides: [size * inner, inner, 1] }], shape });
    }
    const r = rng(size + 3);
    const labels = Int32Array.from({ length: n }, () => (r() < 0.3 ? -100 : Math.floor(r(0, 9))));
    list.push({
      op: 'sum',
      program: kept,
      inputs: [{ data: labels, strides: [size * inner, inner, 1] }],
      scalars: [-100],
      shape,
    });
    if (size > 0)
      list.push({
        op: 'max',
        program: toFloat,
        inputs: [{ data: labels, strides: [size * inner, inner, 1] }],
        shape,
      });
    if (size > 0) {
      // a float32 sum divided by an int32 count, as a loss mean over kept rows
      const count = Int32Array.from({ length: outer * inner }, (_, k) => k % 3);
      list.push({
        op: 'sum',
        program: mulAdd,
        inputs: [xT, y],
        scalars: [-1],
        epilogue: { program: meanOf, inputs: [{ data: count, strides: [inner, 1] }], scalars: [2] },
        shape,
      });
    }
  }
  // NaN propagates through max and min
  const withNaN = Float32Array.from([1, 2, Number.NaN, 4, 5, 6, 7]);
  for (const op of ['max', 'min'] as const)
    list.push({ op, program: expOf, inputs: [{ data: withNaN, strides: [0, 1, 0] }], shape: [1, 7, 1] });
  return list;
}

const label = (c: Case) =>
  `${c.op} ${c.program.name}${c.epilogue ? ` then ${c.epilogue.program.name}` : ''} [${c.shape}]`;

describe('reductions of programs', () => {
  let wasm: WasmBackend;
  let interpreted: WasmBackend;
  const cpu = createCpuBackend();
  beforeAll(async () => {
    wasm = await createWasmBackend({ threads: 1 });
    interpreted = await createWasmBackend({ threads: 1, jit: false });
  });
  afterAll(() => {
    wasm.destroy();
    interpreted.destroy();
  });

  it('the compiled loop and the fallback agree with the cpu backend', () => {
    for (const c of cases()) {
      const want = run(cpu, c);
      for (const be of [wasm, interpreted]) {
        const got = run(be, c);
        const intOut = (c.epilogue?.program.outputDtypes[0] ?? c.program.outputDtypes[0]) === 'int32';
        if (intOut) expect(Array.from(got.out), label(c)).toEqual(Array.from(want.out));
        else expectClose(got.out, want.out, 1e-6, 1e-6, `${label(c)} (jit ${be === wasm})`);
        for (const b of got.buffers) be.disposeBuffer(b);
      }
      for (const b of want.buffers) cpu.disposeBuffer(b);
    }
    // every case ran compiled (none fell back to the scratch path)
    expect([...reduceJitErrors((wasm as unknown as { rt: Runtime }).rt)]).toEqual([]);
  });

  it('bad operands fail before anything is written', () => {
    const c = cases().find((k) => k.epilogue !== undefined && k.shape[1] === 9) as Case;
    const { args, buffers } = prepare(wasm, c);
    const ints = wasm.alloc(64, 'int32');
    const short = wasm.alloc(3, 'float32');
    const input = args.input;
    const epilogue = args.epilogue as NonNullable<ReduceArgs['epilogue']>;
    const bad: [ProgramArgs, RegExp][] = [
      [{ ...args, out: ints }, /writes 20 float32, output is 64 int32/],
      [{ ...args, out: short }, /writes 20 float32, output is 3 float32/],
      [
        { ...args, input: { ...input, inputs: [{ ...input.inputs[0]!, buffer: ints }, input.inputs[1]!] } },
        /the input program's input 0 is int32 with 3 strides; the program reads float32 over 3 dims/,
      ],
      [{ ...args, input: { ...input, scalars: [] } }, /expects 2 inputs and 1 scalars, got 2 and 0/],
      [
        { ...args, epilogue: { ...epilogue, inputs: [{ ...epilogue.inputs[0]!, strides: [1] }] } },
        /the epilogue's input 1 is int32 with 1 strides; the program reads int32 over 2 dims/,
      ],
    ];
    for (const [a, message] of bad) {
      wasm.kernels.fill({ out: args.out, value: 7 });
      expect(() => wasm.kernels.reduce(a)).toThrow(message);
      expect(Array.from(wasm.readSync(args.out)).every((v) => v === 7)).toBe(true);
    }
    for (const b of [...buffers, ints, short]) wasm.disposeBuffer(b);
  });

  it('one call with an input and an epilogue allocates nothing (the fallback does)', () => {
    const c = cases().find((k) => k.epilogue !== undefined && k.shape[1] === 37) as Case;
    for (const be of [wasm, interpreted]) {
      const { args, buffers } = prepare(be, c);
      be.kernels.reduce(args); // compiles
      const before = { ...be.allocatorStats };
      be.kernels.reduce(args);
      const after = be.allocatorStats;
      const allocs = after.reused + after.fresh - before.reused - before.fresh;
      if (be === wasm) expect(allocs).toBe(0);
      else expect(allocs).toBeGreaterThan(0);
      expectClose(be.readSync(args.out), run(cpu, c).out, 1e-6, 1e-6);
      for (const b of buffers) be.disposeBuffer(b);
    }
  });
});
