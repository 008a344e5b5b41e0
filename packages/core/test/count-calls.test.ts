/**
 * countBackendCalls: every backend method call is counted by name while the counter is on,
 * allocations and frees are the alloc/disposeBuffer calls, device counters are differenced,
 * and stop() leaves the backend exactly as it was.
 */
import { createCpuBackend } from '@nabla/backend-cpu';
import * as nb from '@nabla/core';
import { describe, expect, it } from 'vitest';

describe('countBackendCalls', () => {
  it('counts kernels, allocations and frees of real ops, and stops cleanly', async () => {
    const backend = await nb.setBackend('cpu');
    const ownBefore = Object.getOwnPropertyNames(backend).sort();
    const a = nb.tensor([1, 2, 3, 4], { shape: [2, 2] });
    const counter = nb.countBackendCalls(backend);
    expect(() => nb.countBackendCalls(backend)).toThrow(/already being counted/);
    const c = nb.tidy(() => a.matmul(a).sum());
    const s = counter.snapshot();
    expect(s.byMethod.matmul).toBe(1);
    expect(s.allocs).toBeGreaterThanOrEqual(2); // the product and the sum
    // tidy freed the product, kept the sum
    expect(s.frees).toBe(s.allocs - 1);
    expect(s.calls).toBe(Object.values(s.byMethod).reduce((x, y) => x + y, 0));
    expect(s.kernels).toBe(s.calls - s.allocs - s.frees - (s.byMethod.write ?? 0));
    expect(s.device).toEqual({});
    counter.reset();
    expect(counter.snapshot().calls).toBe(0);
    expect(await c.item()).toBe(54);
    const reads = counter.snapshot();
    expect((reads.byMethod.read ?? 0) + (reads.byMethod.readSync ?? 0)).toBeGreaterThanOrEqual(1);
    expect(reads.kernels).toBe(0);
    counter.stop();
    counter.stop();
    expect(Object.getOwnPropertyNames(backend).sort()).toEqual(ownBefore);
    a.add(1).dispose();
    expect(counter.snapshot().calls).toBe(reads.calls); // nothing counted after stop
    a.dispose();
    c.dispose();
  });

  it('the cross-entropy backward is one pointwise kernel: no class-index tensor, no write', async () => {
    const backend = await nb.setBackend('cpu');
    const logits = nb.randn([6, 5], { requiresGrad: true });
    const targets = nb.tensor([0, 4, 2, 2, 1, 3], { dtype: 'int32' });
    const loss = nb.softmaxCrossEntropy(logits, targets);
    const g = nb.ones([6]);
    const counter = nb.countBackendCalls(backend);
    loss.backward(g);
    const s = counter.snapshot();
    counter.stop();
    // the gradient's one buffer (it was two, with a write of the class indices 0..C-1)
    expect(s.byMethod).toEqual({ alloc: 1, pointwise: 1, disposeBuffer: 2 }); // frees: the saved shift and logSum
    const grad = logits.grad!.dataSync();
    const p = nb.tidy(() => nb.softmax(logits, 1).dataSync());
    for (let r = 0; r < 6; r++)
      for (let c = 0; c < 5; c++) {
        const want = p[r * 5 + c] - (c === targets.dataSync()[r] ? 1 : 0);
        expect(grad[r * 5 + c]).toBeCloseTo(want, 6);
      }
    for (const t of [logits, targets, loss, g]) t.dispose();
  });

  it('differences a numeric stats object (the WebGPU dispatch/submit counters)', () => {
    const stats = { dispatches: 3, submits: 1, label: 'x' };
    const backend = Object.assign(createCpuBackend(), { stats }) as nb.Backend;
    const counter = nb.countBackendCalls(backend);
    stats.dispatches = 10;
    stats.submits = 2;
    expect(counter.snapshot().device).toEqual({ dispatches: 7, submits: 1 });
    counter.stop();
  });

  it("counts only calls from outside: a backend's calls to its own methods are not counted", () => {
    const base = createCpuBackend();
    const backend: nb.Backend = Object.create(base);
    const kernels: nb.Kernels = {
      ...base.kernels,
      fill: ({ out, value }) => backend.write(out, new Float32Array(out.size).fill(value)), // a nested call
    };
    Object.defineProperty(backend, 'kernels', { value: kernels, configurable: true, writable: true });
    const counter = nb.countBackendCalls(backend);
    const buf = backend.alloc(4, 'float32');
    backend.kernels.fill({ out: buf, value: 2 });
    expect(counter.snapshot().byMethod).toEqual({ alloc: 1, fill: 1 });
    expect(counter.snapshot().kernels).toBe(1);
    backend.disposeBuffer(buf);
    counter.stop();
    expect(Object.hasOwn(backend, 'alloc')).toBe(false);
    expect(backend.kernels).toBe(kernels);
  });
});
