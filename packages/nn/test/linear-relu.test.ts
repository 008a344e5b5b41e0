/** Linear and ReLU forward and backward against PyTorch 1.13. */
import { expectClose, useBackend } from '@nabla/conformance';
import { manualSeed, tensor } from '@nabla/core';
import { fromFx } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { Linear, ReLU } from '../src/index.js';
import { backendsReporting, fixture, named } from './helpers.js';

const fx = fixture('linear_relu');
const names = await backendsReporting('Linear/ReLU');

describe.each(names)('Linear and ReLU on %s', (backend) => {
  it.each(named(fx.linear as any[]))('Linear %s: forward and backward', async (_n, c: any) => {
    await useBackend(backend);
    const lin = new Linear(c.inFeatures, c.outFeatures, { bias: c.bias });
    const sd: Record<string, any> = { weight: fromFx(c.weight) };
    if (c.bias) sd.bias = fromFx(c.biasValue);
    lin.loadStateDict(sd);
    const x = fromFx(c.input, { requiresGrad: true });
    const y = lin.forward(x);
    y.backward(fromFx(c.gradOutput));
    await expectClose('Linear', `${c.name}: output`, y, c.output);
    await expectClose('Linear', `${c.name}: input grad`, x.grad!, c.inputGrad);
    await expectClose('Linear', `${c.name}: weight grad`, lin.weight.grad!, c.weightGrad);
    const bias = lin.bias;
    if (c.bias && bias) await expectClose('Linear', `${c.name}: bias grad`, bias.grad!, c.biasGrad);
    else expect(lin.bias).toBeNull();
    lin.dispose();
  });

  it('ReLU: gradient 0 at exactly 0', async () => {
    await useBackend(backend);
    const x = fromFx(fx.relu.input, { requiresGrad: true });
    const y = new ReLU().forward(x);
    y.backward(fromFx(fx.relu.gradOutput));
    await expectClose('ReLU', 'output', y, fx.relu.output);
    await expectClose('ReLU', 'input grad', x.grad!, fx.relu.inputGrad, { rtol: 0, atol: 0 });
  });

  it("wrong input width is PyTorch's error; repr matches", async () => {
    await useBackend(backend);
    const lin = new Linear(5, 4);
    expect(() => lin.forward(tensor(new Float32Array(18), { shape: [3, 6] }))).toThrow(fx.errors.wrongWidth);
    expect(lin.toString()).toBe(fx.repr.linear);
    expect(new Linear(5, 4, { bias: false }).toString()).toBe(fx.repr.linearNoBias);
    expect(new ReLU().toString()).toBe(fx.repr.relu);
    lin.dispose();
  });

  it('default init is uniform in ±1/sqrt(in) and follows manualSeed', async () => {
    await useBackend(backend);
    manualSeed(5);
    const a = new Linear(64, 32);
    manualSeed(5);
    const b = new Linear(64, 32);
    const w = Array.from(await a.weight.data());
    const bias = Array.from(await a.bias!.data());
    expect(w).toEqual(Array.from(await b.weight.data()));
    const bound = 1 / 8;
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...bias.map(Math.abs))).toBeLessThanOrEqual(bound);
    // A uniform on ±1/8 has std 1/(8·√3) ≈ 0.0722; 2048 draws pin it to a few percent.
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.066);
    expect(std).toBeLessThan(0.078);
    a.dispose();
    b.dispose();
  });
});
