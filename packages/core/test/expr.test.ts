import {
  E,
  evaluateAt,
  pointwise,
  pointwiseInto,
  pointwiseProgram,
  replicateProgram,
  setBackend,
  tensor,
} from '@nabla/core';
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

  describe('E.index: the coordinate along an axis of the iteration shape', () => {
    it('is an int32 node with its axis in the key; the program records the rank it needs', () => {
      expect(E.index(1)).toEqual({ kind: 'index', axis: 1, dtype: 'int32' });
      const p = pointwiseProgram('cols', { inputs: ['float32'], outputs: [E.cast(E.index(1), 'float32')] });
      const q = pointwiseProgram('cols', { inputs: ['float32'], outputs: [E.cast(E.index(0), 'float32')] });
      expect(p).not.toBe(q);
      expect(p.key).toContain('idx1');
      expect([p.minRank, q.minRank, axpy.minRank]).toEqual([2, 1, 0]);
      // replicated side by side, every copy keeps its position node (one shared instruction)
      const twice = replicateProgram(p, 2);
      expect(twice.minRank).toBe(2);
      expect(twice.instructions.filter((i) => i.op === 'index')).toEqual([
        { op: 'index', axis: 1, dtype: 'int32' },
      ]);
    });

    it('refuses an axis that is not a non-negative integer', () => {
      for (const axis of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
        expect(() => E.index(axis)).toThrow(`expr index: axis must be a non-negative integer, got ${axis}`);
    });

    it('evaluates to the position it is given; a missing position is an error', () => {
      const p = pointwiseProgram('pos', {
        inputs: ['float32'],
        outputs: [E.add(E.input(0), E.cast(E.mul(E.index(0), E.index(2)), 'float32'))],
      });
      const at = [3, 9, 4];
      expect(
        evaluateAt(
          p,
          () => 0.5,
          [],
          [],
          [],
          (d) => at[d],
        ),
      ).toEqual([12.5]);
      expect(() => evaluateAt(p, () => 0.5, [], [], [])).toThrow(/reads E.index\(0\) but no position/);
    });

    it('runs on cpu over broadcast and transposed inputs', async () => {
      // (r, c) -> t[r, c] == c ? x[r or c] : r
      const p = pointwiseProgram('onehot-ish', {
        inputs: ['int32', 'float32'],
        outputs: [E.select(E.eq(E.input(0, 'int32'), E.index(1)), E.input(1), E.cast(E.index(0), 'float32'))],
      });
      const t = tensor([2, 0, 1], { dtype: 'int32', shape: [3, 1] });
      const [out] = pointwise(p, [t, tensor([10, 20, 30])]);
      expect(out.shape).toEqual([3, 3]);
      expect(Array.from(await out.data())).toEqual([0, 0, 30, 10, 1, 1, 2, 20, 2]);
      const m = tensor(
        [
          [2, 0, 1],
          [1, 1, 1],
          [0, 2, 2],
        ],
        { dtype: 'int32' },
      ).t();
      const [out2] = pointwise(p, [m, tensor([10, 20, 30], { shape: [3, 1] })]);
      expect(Array.from(await out2.data())).toEqual([0, 10, 0, 20, 20, 20, 2, 30, 30]);
    });

    it('is refused over a shape of too low a rank, before any kernel, naming the program', () => {
      const p = pointwiseProgram('rank2', { inputs: ['float32'], outputs: [E.cast(E.index(1), 'float32')] });
      expect(() => pointwise(p, [tensor([1, 2, 3])])).toThrow(
        'rank2: the program reads E.index(1), the coordinate along dim 1, but runs over shape [3] of rank 1',
      );
    });
  });
});
