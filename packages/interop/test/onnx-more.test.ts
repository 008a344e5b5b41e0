/**
 * ONNX export of the issue-17 layers (activations, LayerNorm) run in ONNX Runtime and compared
 * with Nabla's own outputs, across the opsets where the mapping changes.
 */
import '@nabla/backend-cpu';
import { manualSeed, randn, setBackend } from '@nabla/core';
import {
  GELU,
  LayerNorm,
  LeakyReLU,
  Linear,
  LogSoftmax,
  type Module,
  Sequential,
  Sigmoid,
  SiLU,
  Softmax,
  Tanh,
} from '@nabla/nn';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/index.js';
import { differenceFromOrt } from './ort.js';

beforeAll(async () => {
  await setBackend('cpu');
  ort.env.wasm.numThreads = 1;
});

async function runBoth(model: Module, inputShape: number[], opset: number): Promise<number> {
  const bytes = await exportOnnx(model, { inputShape, opset });
  const x = randn(inputShape).mul(2);
  try {
    return await differenceFromOrt(model, bytes, x);
  } finally {
    x.dispose();
  }
}

describe('exportOnnx: activations and LayerNorm in ONNX Runtime', () => {
  const build = () =>
    new Sequential(
      new Linear(5, 6),
      new LayerNorm(6),
      new GELU(),
      new Linear(6, 6),
      new SiLU(),
      new LeakyReLU({ negativeSlope: 0.2 }),
      new Tanh(),
      new GELU({ approximate: 'tanh' }),
      new Sigmoid(),
      new Linear(6, 4),
      new LogSoftmax({ dim: 1 }),
    );

  it.each([17, 18, 20])('opset %i', async (opset) => {
    manualSeed(3);
    const model = build();
    expect(await runBoth(model, [3, 5], opset)).toBeLessThan(2e-6);
    model.dispose();
  });

  it('Softmax over a middle dim (opset 13+) and LayerNorm over two trailing dims without affine', async () => {
    manualSeed(4);
    const model = new Sequential(
      new LayerNorm([3, 4], { elementwiseAffine: false }),
      new Softmax({ dim: 1 }),
    );
    expect(await runBoth(model, [2, 3, 4], 17)).toBeLessThan(2e-6);
  });

  it('errors: LayerNorm below opset 17, Softmax over a middle dim below 13', async () => {
    await expect(
      exportOnnx(new Sequential(new LayerNorm(3)), { inputShape: [2, 3], opset: 16 }),
    ).rejects.toThrow("layer '0' (LayerNorm) needs opset 17 or later");
    await expect(
      exportOnnx(new Sequential(new Softmax({ dim: 1 })), { inputShape: [2, 3, 4], opset: 12 }),
    ).rejects.toThrow('needs opset 13 or later');
    await expect(
      exportOnnx(new Sequential(new LayerNorm(4)), { inputShape: [2, 3], opset: 17 }),
    ).rejects.toThrow("layer '0' (LayerNorm([4])) gets input shape [2, 3]");
  });
});
