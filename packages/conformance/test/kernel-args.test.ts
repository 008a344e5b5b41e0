/**
 * The argument checks of the `pointwise` and `reduce` kernels are core's (`checkPointwiseArgs`,
 * `checkReduceArgs`): every backend's kernel table, called directly with the same bad
 * arguments, throws the same message (after its own label) and writes nothing.
 */
import {
  type Backend,
  type BackendBuffer,
  E,
  initBackend,
  type PointwiseArgs,
  pointwiseProgram,
  type ReduceArgs,
} from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../src/index.js';

const names = await backendsUnderTest();

/** How each backend names itself in messages. */
const LABEL: Record<string, string> = { cpu: 'cpu', wasm: 'wasm', webgpu: 'WebGPU' };

const add = pointwiseProgram('kargs-add', {
  inputs: ['float32', 'float32'],
  outputs: [E.add(E.input(0), E.input(1))],
});
const square = pointwiseProgram('kargs-square', {
  inputs: ['float32'],
  outputs: [E.mul(E.input(0), E.input(0))],
});

interface Buffers {
  readonly x: BackendBuffer;
  readonly ints: BackendBuffer;
  readonly out: BackendBuffer;
  readonly small: BackendBuffer;
}

const view = (buffer: BackendBuffer, strides: number[]) => ({ buffer, offset: 0, strides });

/** Bad calls and the message each must give, after `<label> backend: `. */
const pointwiseCases: [string, (b: Buffers) => PointwiseArgs, string][] = [
  [
    'one input too few',
    ({ x, out }) => ({ program: add, inputs: [view(x, [1])], scalars: [], outputs: [out], shape: [4] }),
    'pointwise kargs-add: expects 2 inputs and 0 scalars, got 1 and 0',
  ],
  [
    'an int32 input',
    ({ x, ints, out }) => ({
      program: add,
      inputs: [view(x, [1]), view(ints, [1])],
      scalars: [],
      outputs: [out],
      shape: [4],
    }),
    'pointwise kargs-add: input 1 is int32 with 1 strides; the program reads float32 over 1 dims',
  ],
  [
    'an output too small',
    ({ x, small }) => ({
      program: add,
      inputs: [view(x, [1]), view(x, [1])],
      scalars: [],
      outputs: [small],
      shape: [4],
    }),
    'pointwise kargs-add: output 0 must hold 4 float32, got 2 float32',
  ],
  [
    'a view reaching past its buffer',
    ({ x, out }) => ({
      program: add,
      inputs: [view(x, [1]), { buffer: x, offset: 1, strides: [1] }],
      scalars: [],
      outputs: [out],
      shape: [4],
    }),
    'pointwise kargs-add: input 1 (offset 1, strides [1]) over shape [4] reads elements 1..4 of a buffer of 4',
  ],
];

const reduceCases: [string, (b: Buffers) => ReduceArgs, string][] = [
  [
    'max over an empty axis',
    ({ x, out }) => ({ op: 'max', x, out, outer: 2, size: 0, inner: 2 }),
    'reduce max over an empty axis',
  ],
  [
    'an int32 output of a float32 sum',
    ({ x, ints }) => ({ op: 'sum', x, out: ints, outer: 2, size: 2, inner: 1 }),
    'reduce sum writes 2 float32, output is 4 int32',
  ],
  [
    'an input too small',
    ({ x, out }) => ({ op: 'sum', x, out, outer: 2, size: 4, inner: 1 }),
    'reduce sum: input holds 4 elements, [2, 4, 1] needs 8',
  ],
  [
    'a program input with a view too few',
    ({ out }) => ({
      op: 'sum',
      input: { program: square, inputs: [], scalars: [] },
      out,
      outer: 2,
      size: 2,
      inner: 1,
    }),
    'reduce sum: the input program kargs-square expects 1 inputs and 0 scalars, got 0 and 0',
  ],
  [
    'a program input of argmax',
    ({ x, ints }) => ({
      op: 'argmax',
      input: { program: square, inputs: [view(x, [2, 1, 0])], scalars: [] },
      out: ints,
      outer: 2,
      size: 2,
      inner: 1,
    }),
    'reduce argmax takes no program (sum, max and min do)',
  ],
];

async function read(be: Backend, b: BackendBuffer): Promise<number[]> {
  return Array.from(await be.read(b));
}

describe.each(names)('kernel argument checks: %s', (name) => {
  it('bad pointwise and reduce arguments give core’s message and write nothing', async () => {
    const be = await initBackend(name);
    const prefix = `${LABEL[name] ?? name} backend: `;
    const b: Buffers = {
      x: be.alloc(4, 'float32'),
      ints: be.alloc(4, 'int32'),
      out: be.alloc(4, 'float32'),
      small: be.alloc(2, 'float32'),
    };
    be.write(b.x, new Float32Array([1, 2, 3, 4]));
    for (const o of [b.ints, b.out, b.small]) be.kernels.fill({ out: o, value: 7 });
    const cases: [string, () => void, string][] = [
      ...pointwiseCases.map(([what, args, message]): [string, () => void, string] => [
        what,
        () => be.kernels.pointwise(args(b)),
        message,
      ]),
      ...reduceCases.map(([what, args, message]): [string, () => void, string] => [
        what,
        () => be.kernels.reduce(args(b)),
        message,
      ]),
    ];
    for (const [what, call, message] of cases) {
      let error: unknown = null;
      try {
        call();
      } catch (err) {
        error = err;
      }
      expect((error as Error | null)?.message, what).toBe(prefix + message);
    }
    expect(await read(be, b.x)).toEqual([1, 2, 3, 4]);
    for (const o of [b.ints, b.out, b.small]) expect((await read(be, o)).every((v) => v === 7)).toBe(true);
    for (const o of Object.values(b)) be.disposeBuffer(o);
  });
});
