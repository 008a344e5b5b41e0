/** Test helper: an exported ONNX model run in ONNX Runtime and compared with Nabla's own output. */
import { type Tensor, tidy } from '@nabla/core';
import type { Module } from '@nabla/nn';
import * as ort from 'onnxruntime-web';
import { expect } from 'vitest';
import { maxAbsDiff } from './mlp.js';

/**
 * Runs `bytes` in ONNX Runtime on `x` (fed as `input`) and returns the largest difference of its
 * `output` from Nabla's `model.forward(x)` in eval mode, after checking the two shapes agree.
 * `inspect` sees the session before it runs.
 */
export async function differenceFromOrt(
  model: Module,
  bytes: Uint8Array,
  x: Tensor,
  inspect?: (session: ort.InferenceSession) => void,
): Promise<number> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    inspect?.(session);
    const feeds = { input: new ort.Tensor('float32', (await x.data()) as Float32Array, [...x.shape]) };
    const result = (await session.run(feeds)).output;
    model.eval();
    const y = tidy(() => model.forward(x));
    expect(result.dims).toEqual(y.shape);
    const diff = maxAbsDiff(result.data as Float32Array, await y.data());
    y.dispose();
    return diff;
  } finally {
    await session.release();
  }
}
