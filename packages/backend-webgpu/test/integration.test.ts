/**
 * The backend through core's public API: registration, tensor ops with autograd, and a
 * 200-step training loop that reads only the loss and keeps memory flat.
 */
import {
  batchNormTrain,
  getBackend,
  linear,
  listBackends,
  manualSeed,
  randint,
  randn,
  setBackend,
  softmaxCrossEntropy,
  type Tensor,
  tensor,
  tidy,
} from '@nabla/core';
import { describe, expect, it } from 'vitest';
// Side-effect import: registers 'webgpu' with core.
import '../src/index.js';
import { adamUpdate, expectClose, type Held, held } from '@nabla/test-kit';
import { resetWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import { openBackend } from './helpers.js';

// Probe once (this also prints the loud skip reason when there is no adapter).
const probe = await openBackend();
probe?.destroy();

describe('registration', () => {
  it("registers 'webgpu' on import without opening a device", () => {
    expect(listBackends()).toContain('webgpu');
  });
});

describe.skipIf(!probe)('webgpu through core', () => {
  it('runs ops with autograd and refuses dataSync with a pointer to data()', async () => {
    await setBackend('webgpu');
    expect(getBackend().name).toBe('webgpu');
    // Everything made here is disposed by the scope, so the next test's memory() sees none of it.
    const r = tidy(() => {
      const x = tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { requiresGrad: true },
      );
      const y = x.matmul(x.t()).relu().sum();
      y.backward();
      const bn = batchNormTrain(
        tensor([
          [1, 10],
          [3, 30],
          [5, 50],
        ]),
        null,
        null,
        1e-5,
      );
      return { y, grad: (x.grad as Tensor).clone(), mean: bn.mean, sm: x.softmax(1) };
    });
    expect(await r.y.item()).toBe(1 * 1 + 2 * 2 + 2 * (1 * 3 + 2 * 4) + 3 * 3 + 4 * 4);
    // d/dx Σ (x xᵀ)[i,j] = 2 Σ_j x[j,k] for every row i.
    expect(Array.from(await r.grad.data())).toEqual([8, 12, 8, 12]);
    expect(() => r.y.dataSync()).toThrow(/await t\.data\(\)/);
    expectClose(await r.mean.data(), [3, 30]);
    const e = Math.E;
    expectClose(await r.sm.data(), [1 / (1 + e), e / (1 + e), 1 / (1 + e), e / (1 + e)]);
    for (const t of Object.values(r)) t.dispose();
  });

  it('a 200-step training loop keeps memory() flat and learns', async () => {
    await setBackend('webgpu');
    manualSeed(0);
    const [n, d, h, c] = [32, 8, 16, 3];
    // Set-up intermediates are freed by the scope, not later by the garbage collector mid-loop.
    const { xs, ys, params, state } = tidy(() => {
      const ps = [randn([h, d]).mul(0.3).detach(), randn([c, h]).mul(0.3).detach()];
      for (const p of ps) p.requiresGrad = true;
      return {
        xs: randn([n, d]),
        ys: randint(0, c, [n]),
        params: ps,
        state: ps.map((p) => ({ m: p.mul(0), v: p.mul(0) })),
      };
    });
    const [w1, w2] = params;
    const stats = (getBackend() as WebGpuBackend).stats;
    const start = { ...stats };
    const losses: number[] = [];
    let base: Held | null = null;
    for (let step = 1; step <= 200; step++) {
      const loss = tidy(() => {
        const logits = linear(linear(xs, w1, null, { relu: true }), w2, null);
        const l = softmaxCrossEntropy(logits, ys).mean();
        l.backward();
        params.forEach((p, i) => {
          adamUpdate(p, p.grad as Tensor, state[i].m, state[i].v, step, 0.01);
          p.grad?.dispose();
          p.grad = null;
        });
        return l;
      });
      if (step === 1 || step % 50 === 0) losses.push(await loss.item());
      loss.dispose();
      // held(), not memory(): each read awaits the device, when the collector may free leftovers
      if (step === 10) base = held();
      if (step > 10) expect(held()).toEqual(base);
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.7);
    // No stall per step: dispatches are batched, submitted on the 5 reads or when the stream fills.
    const dispatches = stats.dispatches - start.dispatches;
    const submits = stats.submits - start.submits;
    expect(submits).toBeLessThan(200);
    expect(submits).toBeLessThanOrEqual(Math.ceil(dispatches / 256) + 5 + 1);
  });
  it('device loss: a clear error, then resetWebGpuBackend() and setBackend open a fresh device', async () => {
    const first = (await setBackend('webgpu')) as WebGpuBackend;
    const t = tensor([1, 2, 3]);
    (first as unknown as { device: GPUDevice }).device.destroy(); // what a driver reset looks like
    await new Promise((r) => setTimeout(r, 50));
    expect(() => t.add(1)).toThrow(/device was lost/);
    expect(() => t.add(1)).toThrow(/resetWebGpuBackend\(\)/);
    resetWebGpuBackend();
    const second = (await setBackend('webgpu')) as WebGpuBackend;
    expect(second).not.toBe(first);
    expect(() => t.add(1)).toThrow(/different backends|another WebGPU device|device was lost/);
    expect(Array.from(await tensor([1, 2, 3]).mul(2).data())).toEqual([2, 4, 6]);
  });
});
