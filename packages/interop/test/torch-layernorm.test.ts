/**
 * A PyTorch model with LayerNorm (with and without affine), GELU and SiLU: its safetensors
 * (tools/interop/torch_roundtrip.py --layernorm) loads under PyTorch's keys, gives PyTorch's eval
 * outputs, and re-saving it in Nabla reproduces the file byte for byte.
 */
import '@nabla/backend-cpu';
import { setBackend } from '@nabla/core';
import { GELU, LayerNorm, Linear, Sequential, SiLU } from '@nabla/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { load, save } from '../src/index.js';
import { type Fx, fixtureBytes, fixtureJson, fromFx, maxAbsDiff } from './mlp.js';

beforeAll(async () => {
  await setBackend('cpu');
});

const makeModel = () =>
  new Sequential(
    new Linear(5, 6),
    new LayerNorm(6),
    new GELU(),
    new Linear(6, 6),
    new SiLU(),
    new LayerNorm(6, { elementwiseAffine: false }),
    new Linear(6, 2),
  );

describe('PyTorch LayerNorm/GELU/SiLU model through safetensors', () => {
  it("has PyTorch's keys, loads, and gives PyTorch's outputs; re-saving is byte-identical", async () => {
    const fx = fixtureJson<{ keys: string[]; input: Fx; output: Fx }>('torch_layernorm');
    const model = makeModel();
    expect(Object.keys(model.stateDict())).toEqual(fx.keys);
    const bytes = fixtureBytes('torch_layernorm.safetensors');
    await load(model, bytes);
    model.eval();
    const y = model.forward(fromFx(fx.input));
    expect(maxAbsDiff(await y.data(), fx.output.data)).toBeLessThan(1e-5);
    expect(await save(model)).toEqual(bytes);
    model.dispose();
  });
});
