/** Optimizer argument checks with PyTorch's words, zeroGrad, lr and state dicts. */
import { backends, useBackend } from '@nabla/conformance';
import { ones, tensor, tidy } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { Adam, SGD } from '../src/index.js';
import { fixture } from './helpers.js';

const e = fixture('errors').errors as Record<string, string>;
const names = await backends();

describe.each(names)('optimizer API on %s', (backend) => {
  it("rejects invalid hyper-parameters with PyTorch's messages", async () => {
    await useBackend(backend);
    const p = [ones([2], { requiresGrad: true })];
    expect(() => new SGD(p, { lr: -0.1 })).toThrow(e.sgdNegativeLr);
    expect(() => new SGD(p, { lr: 0.1, momentum: -1 })).toThrow(e.sgdNegativeMomentum);
    expect(() => new SGD(p, { lr: 0.1, nesterov: true })).toThrow(e.sgdNesterov);
    expect(() => new SGD(p, { lr: 0.1, weightDecay: -1 })).toThrow(e.sgdNegativeWeightDecay);
    expect(() => new Adam(p, { lr: -0.1 })).toThrow(e.adamNegativeLr);
    expect(() => new Adam(p, { eps: -1 })).toThrow(e.adamNegativeEps);
    expect(() => new Adam(p, { betas: [1.0, 0.999] })).toThrow(e.adamBeta1.replace('1.0', '1'));
    expect(() => new Adam(p, { betas: [0.9, -0.1] })).toThrow(e.adamBeta2);
    expect(() => new Adam(p, { weightDecay: -1 })).toThrow(e.adamNegativeWeightDecay);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(e.emptyParams);
  });

  it('param groups override defaults; lr is settable; zeroGrad clears grads', async () => {
    await useBackend(backend);
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3], { requiresGrad: true });
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    tidy(() => a.mul(a).sum().add(b.mul(2).sum()).backward());
    opt.step();
    expect(Array.from(await a.data())).toEqual([1 - 0.1 * 2, 2 - 0.1 * 4].map((v) => expect.closeTo(v, 6)));
    expect(Array.from(await b.data())).toEqual([expect.closeTo(3 - 0.5 * 2, 6)]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    opt.lr = 0.01;
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.01, 0.01]);
    expect(() => new SGD([{ params: [a] }, { params: [a] }], { lr: 0.1 })).toThrow(
      'more than one parameter group',
    );
  });

  it('stateDict/loadStateDict carry the moments over, so a restored optimizer continues identically', async () => {
    await useBackend(backend);
    const run = async (restore: boolean) => {
      const p = tensor([0.5, -1.5, 2], { requiresGrad: true });
      let opt = new Adam([p], { lr: 0.1, amsgrad: true });
      const stepOnce = () => {
        opt.zeroGrad();
        tidy(() => p.mul(p).mul(p).sum().backward());
        opt.step();
      };
      stepOnce();
      stepOnce();
      if (restore) {
        const saved = opt.stateDict();
        const fresh = new Adam([p], { lr: 1 });
        fresh.loadStateDict(saved);
        opt.dispose();
        opt = fresh;
        expect(opt.lr).toBe(0.1);
        expect(opt.stateDict().state[0].step).toBe(2);
      }
      stepOnce();
      return Array.from(await p.data());
    };
    expect(await run(true)).toEqual(await run(false));
  });
});
