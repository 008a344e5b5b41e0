/**
 * Both directions of the PyTorch round trip, against committed fixtures written by
 * tools/interop/torch_roundtrip.py (PyTorch 1.13) and tools/interop/make_nabla_fixture.ts.
 */
import '@nabla/backend-cpu';
import { setBackend } from '@nabla/core';
import type { BatchNorm1d } from '@nabla/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, save, toSafetensors } from '../src/index.js';
import { type Fx, fixtureBytes, fixtureJson, fromFx, makeMlp, maxAbsDiff } from './mlp.js';

const worst: Record<string, number> = {};

beforeAll(async () => {
  await setBackend('cpu');
});
afterAll(() => {
  console.log(`interop: largest |Nabla - PyTorch| output difference: ${JSON.stringify(worst)}`);
});

describe('PyTorch → Nabla', () => {
  it('a model trained in PyTorch, loaded from its safetensors, gives PyTorch’s eval outputs', async () => {
    const fx = fixtureJson<{ input: Fx; output: Fx }>('torch_mlp');
    const model = makeMlp();
    await load(model, fixtureBytes('torch_mlp.safetensors'));
    model.eval();
    // Trained statistics arrived: the counter is PyTorch's step count, the variances are not the initial 1s.
    expect(await (model.at(1) as BatchNorm1d).numBatchesTracked!.item()).toBe(40);
    const y = model.forward(fromFx(fx.input));
    expect(y.shape).toEqual(fx.output.shape);
    const diff = maxAbsDiff(await y.data(), fx.output.data);
    worst['torch→nabla'] = diff;
    expect(diff).toBeLessThan(1e-5);
    // The fixture is not trivially small: a wrong weight would show.
    expect(Math.max(...fx.output.data.map(Math.abs))).toBeGreaterThan(1);
    model.dispose();
  });

  it('re-saving the PyTorch file in Nabla reproduces it byte for byte', async () => {
    const model = makeMlp();
    const original = fixtureBytes('torch_mlp.safetensors');
    await load(model, original);
    expect(await save(model)).toEqual(original);
    model.dispose();
  });
});

describe('Nabla → PyTorch', () => {
  it('the committed Nabla file is what Nabla writes today, and PyTorch computed the same outputs from it', async () => {
    const nabla = fixtureJson<{ input: Fx; output: Fx }>('nabla_mlp');
    const torch = fixtureJson<{ output: Fx; metadata: Record<string, string> }>('nabla_mlp.torch');
    const bytes = fixtureBytes('nabla_mlp.safetensors');
    const model = makeMlp();
    await load(model, bytes);
    expect(await toSafetensors(model.stateDict())).toEqual(bytes); // the writer has not drifted from the fixture
    expect(torch.metadata).toEqual({ format: 'pt' });
    model.eval();
    const y = await model.forward(fromFx(nabla.input)).data();
    const diff = maxAbsDiff(y, torch.output.data);
    worst['nabla→torch'] = diff;
    expect(diff).toBeLessThan(1e-5);
    expect(Math.max(...torch.output.data.map(Math.abs))).toBeGreaterThan(0.5);
    model.dispose();
  });
});
