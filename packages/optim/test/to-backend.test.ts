/**
 * `model.to(name)` and `opt.to(name)`: a model and its optimizer trained on one backend move,
 * in place, to another and keep training there; the moved values are exact, the old memory is
 * freed, and a failed move changes nothing.
 */
import { backends, useBackend } from '@nabla/conformance';
import { initBackend, manualSeed, memory, randint, randn, setBackend, type Tensor } from '@nabla/core';
import { BatchNorm1d, CrossEntropyLoss, Linear, ReLU, Sequential } from '@nabla/nn';
import { held, trainingStep } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { Adam } from '../src/index.js';

const names = await backends();
const pairs = names.flatMap((from) => names.filter((to) => to !== from).map((to) => [from, to] as const));

async function valuesOf(ts: Tensor[]): Promise<number[][]> {
  return Promise.all(ts.map(async (t) => Array.from(await t.data())));
}

describe.each(pairs)('model.to and opt.to: %s → %s', (from, to) => {
  it('moves parameters, gradients, buffers and optimizer state in place, exactly, and training goes on', async () => {
    await initBackend(to);
    await useBackend(from);
    manualSeed(3);
    const model = new Sequential(new Linear(6, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 3));
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const lossFn = new CrossEntropyLoss();
    const step = (x: Tensor, y: Tensor) => trainingStep(model, lossFn, opt, x, y);
    const x = randn([10, 6]);
    const y = randint(0, 3, [10]);
    for (let i = 0; i < 2; i++) step(x, y).dispose();
    const params = model.parameters();
    const state = [...opt.state.values()].flatMap((s) =>
      Object.values(s).filter((v) => typeof v !== 'number'),
    );
    const everything = [...params, ...params.map((p) => p.grad!), ...model.buffers(), ...(state as Tensor[])];
    const before = await valuesOf(everything);
    const sourceBytes = memory().backends[from].bytes;

    expect(await model.to(to)).toBe(model);
    expect(await opt.to(to)).toBe(opt);
    expect(model.parameters()).toEqual(params); // the same objects
    for (const t of everything) expect(t.backend).toBe(to);
    expect(await valuesOf(everything)).toEqual(before);
    // what is left on the source backend: the batch only
    expect(memory().backends[from].bytes).toBeLessThan(sourceBytes);

    await setBackend(to);
    const xt = await x.toAsync(to);
    const yt = await y.toAsync(to);
    for (let i = 0; i < 2; i++) {
      const loss = step(xt, yt);
      expect(Number.isFinite(await loss.item())).toBe(true);
      loss.dispose();
    }
    for (const t of [x, y, xt, yt]) t.dispose();
    opt.dispose();
    model.dispose();
  });

  it('moves nothing when a tensor cannot move', async () => {
    await useBackend(from);
    const model = new Sequential(new Linear(4, 2));
    const before = held(); // not memory(): the moves await
    const input = randn([3, 4], { requiresGrad: true });
    const out = model.forward(input);
    // a computed tensor is not a leaf: the whole move is refused before anything moves
    await expect(
      import('@nabla/core').then(({ moveTensors }) => moveTensors([...model.parameters(), out], to)),
    ).rejects.toThrow(/only leaf tensors/);
    for (const p of model.parameters()) expect(p.backend).toBe(from);
    out.dispose();
    input.dispose();
    await expect(model.to('no-such-backend')).rejects.toThrow(/no-such-backend/);
    for (const p of model.parameters()) expect(p.backend).toBe(from);
    expect(held().tensors).toBe(before.tensors);
    model.dispose();
  });
});
