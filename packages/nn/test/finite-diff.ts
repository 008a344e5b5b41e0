/**
 * Central finite differences of `sum(f(x) · w)` on the cpu backend in float32, to check a
 * backward rule independently of PyTorch. Step h and the tolerance suit float32 values of O(1).
 */
import { type Tensor, tensor } from '@nabla/core';
import { expect } from 'vitest';

export async function checkFiniteDifferences(
  what: string,
  f: (x: Tensor) => Tensor,
  xs: number[],
  shape: number[],
  options: { h?: number; tol?: number } = {},
): Promise<void> {
  const h = options.h ?? 1e-2;
  const tol = options.tol ?? 2e-2;
  const weights = xs.map((_, i) => Math.sin(i + 1)); // a fixed, non-uniform upstream gradient
  const objective = async (values: number[]) => {
    const y = f(tensor(new Float32Array(values), { shape }));
    const w = tensor(new Float32Array(weights.slice(0, y.size)), { shape: y.shape });
    const s = await y.mul(w).sum().item();
    y.dispose();
    w.dispose();
    return s;
  };
  const x = tensor(new Float32Array(xs), { shape, requiresGrad: true });
  const y = f(x);
  y.backward(tensor(new Float32Array(weights.slice(0, y.size)), { shape: y.shape }));
  const analytic = await x.grad!.data();
  for (let i = 0; i < xs.length; i++) {
    const up = [...xs];
    const down = [...xs];
    up[i] += h;
    down[i] -= h;
    const numeric = ((await objective(up)) - (await objective(down))) / (2 * h);
    expect(
      Math.abs(analytic[i] - numeric),
      `${what}: d/dx[${i}] analytic ${analytic[i]}, finite difference ${numeric}`,
    ).toBeLessThanOrEqual(tol * (1 + Math.abs(numeric)));
  }
}
