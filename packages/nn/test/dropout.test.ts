/** Dropout's semantics against PyTorch 1.13 (scaling, gradient, eval, bounds), not its RNG. */
import { backends, useBackend } from '@nabla/conformance';
import { manualSeed, ones } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { Dropout } from '../src/index.js';
import { fixture } from './helpers.js';

const fx = fixture('dropout');
const names = await backends();

describe.each(names)('Dropout on %s', (backend) => {
  it.each(Object.values(fx.byP).map((c: any) => [c.p, c]))('p = %s', async (p, c: any) => {
    await useBackend(backend);
    manualSeed(3);
    const d = new Dropout(p as number);
    const x = ones([50, 40], { requiresGrad: true });
    const y = d.forward(x);
    y.sum().backward();
    const out = await y.data();
    const grad = await x.grad!.data();
    const kept = Array.from(out).filter((v) => v !== 0);
    if (c.scale === null) expect(kept.length).toBe(0);
    for (const v of kept) expect(v).toBeCloseTo(c.scale, 5);
    for (let i = 0; i < out.length; i++) expect(grad[i]).toBeCloseTo(out[i], 6); // same mask and scale
    // The kept fraction is binomial(2000, 1-p): within 4 standard deviations.
    const sd = Math.sqrt((p * (1 - p)) / 2000);
    expect(Math.abs(kept.length / 2000 - (1 - p))).toBeLessThanOrEqual(4 * sd + 1e-9);
    d.eval();
    const z = d.forward(x);
    expect(Array.from(await z.data()).every((v) => v === 1)).toBe(c.evalIdentity);
  });

  it("rejects p outside [0, 1] with PyTorch's words", async () => {
    await useBackend(backend);
    expect(() => new Dropout(1.5)).toThrow(fx.errors.pTooLarge);
    expect(() => new Dropout(-0.1)).toThrow(fx.errors.pNegative);
    expect(new Dropout(0.25).toString()).toBe(fx.repr);
  });
});
