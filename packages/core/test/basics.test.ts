/** Seeded randomness, toString formatting, and autograd bookkeeping (accumulation, noGrad, detach). */
import '@nabla/backend-cpu';
import * as nb from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await nb.setBackend('cpu');
});

describe('manualSeed', () => {
  it('gives the same numbers twice, and different numbers for another seed', () => {
    const drawAll = (seed: number) => {
      nb.manualSeed(seed);
      return nb.tidy(() =>
        [nb.rand([20]), nb.randn([21]), nb.randint(0, 10, [30]), nb.uniform([5], -1, 1)].map((t) => [
          ...t.dataSync(),
        ]),
      );
    };
    const a = drawAll(5);
    expect(drawAll(5)).toEqual(a);
    expect(drawAll(6)[0]).not.toEqual(a[0]);
    nb.manualSeed(5);
    const g = new nb.Generator(5);
    expect([...nb.tidy(() => nb.rand([3]).dataSync())]).toEqual(
      [g.uniform(), g.uniform(), g.uniform()].map(Math.fround),
    );
  });

  it('draws have the right distribution (loosely)', () => {
    nb.manualSeed(1);
    const [u, n, i] = nb.tidy(() =>
      [nb.rand([20000]), nb.randn([20000], { mean: 3, std: 2 }), nb.randint(-2, 3, [20000])].map((t) =>
        t.dataSync(),
      ),
    );
    const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, v) => s + v, 0) / xs.length;
    expect(mean(u)).toBeCloseTo(0.5, 1);
    expect(mean(n)).toBeCloseTo(3, 1);
    expect(Math.sqrt(mean(Array.from(n, (v) => (v - 3) ** 2)))).toBeCloseTo(2, 1);
    expect(new Set(i)).toEqual(new Set([-2, -1, 0, 1, 2]));
  });
});

describe('toString', () => {
  it('prints values, shape, dtype, backend and grad flag', () => {
    nb.tidy(() => {
      expect(
        String(
          nb.tensor([
            [1, 2.5],
            [3, -4],
          ]),
        ),
      ).toBe('Tensor([[1., 2.5],\n        [3., -4.]], shape=[2, 2], dtype=float32, backend=cpu)');
      expect(String(nb.tensor([1, 2], { dtype: 'int32' }))).toBe(
        'Tensor([1, 2], shape=[2], dtype=int32, backend=cpu)',
      );
      expect(String(nb.full([], 0.5, { requiresGrad: true }))).toBe(
        'Tensor(0.5, shape=[], dtype=float32, backend=cpu, requiresGrad=true)',
      );
      expect(String(nb.tensor([1e-7, 123456789]))).toContain('[1.0000e-7, 1.2346e+8]');
    });
  });

  it('abbreviates long dims with ...', () => {
    nb.tidy(() => {
      expect(String(nb.arange(10))).toBe(
        'Tensor([0, 1, 2, ..., 7, 8, 9], shape=[10], dtype=int32, backend=cpu)',
      );
      const s = String(nb.arange(100).reshape([10, 10]));
      expect(s).toContain('[0, 1, 2, ..., 7, 8, 9]');
      expect(s).toContain('...');
      expect(s.split('\n').length).toBe(7);
    });
  });
});

describe('autograd bookkeeping', () => {
  it('accumulates into .grad across backward calls until zeroGrad', () => {
    const x = nb.tensor([1, 2, 3], { requiresGrad: true });
    nb.tidy(() => x.square().sum().backward());
    nb.tidy(() => x.mul(3).sum().backward());
    expect([...x.grad!.dataSync()]).toEqual([5, 7, 9]);
    x.zeroGrad();
    nb.tidy(() => x.sum().backward());
    expect([...x.grad!.dataSync()]).toEqual([1, 1, 1]);
    x.dispose();
  });

  it('a tensor used twice and a diamond graph sum their paths', () => {
    const x = nb.tensor([2], { requiresGrad: true });
    nb.tidy(() => {
      const a = x.mul(x); // x²
      const b = a.add(x.exp()); // x² + eˣ
      a.mul(b).sum().backward(); // d/dx (x⁴ + x²eˣ) = 4x³ + 2xeˣ + x²eˣ
    });
    expect(x.grad!.dataSync()[0]).toBeCloseTo(32 + 4 * Math.exp(2) + 4 * Math.exp(2), 3);
    x.dispose();
  });

  it('non-leaf tensors get no .grad; noGrad and detach record nothing', () => {
    const x = nb.tensor([1, 2], { requiresGrad: true });
    nb.tidy(() => {
      const y = x.mul(2);
      expect(y.isLeaf).toBe(false);
      expect(y.requiresGrad).toBe(true);
      const z = nb.noGrad(() => x.mul(2));
      expect(z.requiresGrad).toBe(false);
      expect(z.gradFn).toBeNull();
      expect(nb.isGradEnabled()).toBe(true);
      const d = y.detach();
      expect(d.requiresGrad).toBe(false);
      y.add(d.mul(100)).sum().backward();
      expect(y.grad).toBeNull();
    });
    expect([...x.grad!.dataSync()]).toEqual([2, 2]);
    x.dispose();
  });

  it('backward still works after intermediates were disposed, and frees the graph afterwards', () => {
    const x = nb.tensor([1, 2, 3], { requiresGrad: true });
    const before = nb.memory().tensors;
    const y = x.exp();
    const z = nb.tidy(() => y.mul(y).sum());
    y.dispose(); // the graph keeps what backward needs
    z.backward();
    expect(Array.from(x.grad!.dataSync(), (v) => Math.round(v * 1e3) / 1e3)).toEqual(
      [1, 2, 3].map((v) => Math.round(2 * Math.exp(2 * v) * 1e3) / 1e3),
    );
    z.dispose();
    expect(nb.memory().tensors).toBe(before + 1); // x.grad only
    x.dispose();
  });

  it('a leaf disposed before backward is skipped; others still get gradients', () => {
    const a = nb.tensor([1, 2], { requiresGrad: true });
    const b = nb.tensor([3, 4], { requiresGrad: true });
    const loss = nb.tidy(() => a.mul(b).sum());
    a.dispose();
    loss.backward();
    expect(a.grad).toBeNull();
    expect([...b.grad!.dataSync()]).toEqual([1, 2]);
    for (const t of [b, loss]) t.dispose();
  });

  it('backward with an explicit gradient for a non-scalar output', () => {
    const x = nb.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    nb.tidy(() =>
      x.square().backward(
        nb.tensor([
          [1, 0],
          [0, 2],
        ]),
      ),
    );
    expect([...x.grad!.dataSync()]).toEqual([2, 0, 0, 16]);
    x.dispose();
  });

  it('gradients flow through int32 casts? no: int32 results are not differentiable', () => {
    const x = nb.tensor([1.5, -2], { requiresGrad: true });
    nb.tidy(() => {
      const c = x.gt(0);
      expect(c.dtype).toBe('int32');
      expect(c.requiresGrad).toBe(false);
      const y = nb.where(c, x, x.mul(-1)).sum(); // |x|
      y.backward();
    });
    expect([...x.grad!.dataSync()]).toEqual([1, -1]);
    x.dispose();
  });
});
