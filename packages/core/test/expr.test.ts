import { E, pointwise, pointwiseInto, pointwiseProgram, setBackend, tensor } from '@nabla/core';
import '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(() => setBackend('cpu'));

describe('pointwise programs (kernels as data)', () => {
  const axpy = pointwiseProgram('axpy', {
    inputs: ['float32', 'float32'],
    scalars: ['float32'],
    outputs: [E.add(E.mul(E.scalar(0), E.input(0)), E.input(1))],
  });

  it('interns programs by their text and shares common subexpressions', () => {
    const again = pointwiseProgram('axpy', {
      inputs: ['float32', 'float32'],
      scalars: ['float32'],
      outputs: [E.add(E.mul(E.scalar(0), E.input(0)), E.input(1))],
    });
    expect(again).toBe(axpy);
    const sq = E.mul(E.input(0), E.input(0));
    const p = pointwiseProgram('shared', { inputs: ['float32'], outputs: [E.add(sq, 1), E.sub(sq, 1)] });
    expect(
      p.instructions.filter((i: { op: string; fn?: string }) => i.op === 'binary' && i.fn === 'mul'),
    ).toHaveLength(1);
  });

  it('rejects undeclared inputs and mixed dtypes', () => {
    expect(() => pointwiseProgram('bad', { inputs: [], outputs: [E.input(0)] })).toThrow(/input 0/);
    expect(() => E.add(E.input(0), E.input(1, 'int32'))).toThrow(/dtype mismatch/);
    expect(() => E.exp(E.input(0, 'int32'))).toThrow(/float32/);
  });

  it('runs with broadcasting and per-call scalars on cpu', async () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = tensor([10, 20, 30]);
    const [out] = pointwise(axpy, [x, y], [2]);
    expect(Array.from(await out.data())).toEqual([12, 24, 36, 18, 30, 42]);
  });

  it('updates in place, several outputs from one pass', async () => {
    const p = tensor([1, 2, 3]);
    const m = tensor([0, 0, 0]);
    const g = tensor([1, 1, 1]);
    const step = pointwiseProgram('toy-step', {
      inputs: ['float32', 'float32', 'float32'],
      scalars: ['float32'],
      outputs: [
        E.sub(E.input(0), E.mul(E.scalar(0), E.add(E.input(1), E.input(2)))),
        E.add(E.input(1), E.input(2)),
      ],
    });
    pointwiseInto(step, [p, m, g], [0.5], [p, m]);
    expect(Array.from(await p.data())).toEqual([0.5, 1.5, 2.5]);
    expect(Array.from(await m.data())).toEqual([1, 1, 1]);
    expect(() => pointwiseInto(step, [p, m, g], [0.5], [p.slice(0, 0, 2), m])).toThrow(/contiguous memory/);
  });
});
