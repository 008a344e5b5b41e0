/**
 * Batch norm's fused ReLU on inputs large enough for the kernels to split channels across
 * threads (N·C·L ≥ minParallelElements / 4): output and every gradient bit for bit equal to
 * batch norm then relu, for `(N, C)` and `(N, C, L)`.
 */
import * as nb from '@nabla/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../src/backend.js';

const NAME = 'wasm-bn-relu-2-threads';
let backend: WasmBackend;

beforeAll(async () => {
  nb.registerBackend(NAME, async () => {
    backend = await createWasmBackend({ threads: 2 });
    return Object.create(backend, { name: { value: NAME } }) as WasmBackend;
  });
  await nb.initBackend(NAME);
});
afterAll(() => backend.destroy());

/** Bits of each float32 value. */
async function bits(t: nb.Tensor): Promise<number[]> {
  return Array.from(new Uint32Array(Float32Array.from(await t.data()).buffer));
}

it('threaded batchNormTrain with relu equals batch norm then relu, bit for bit', async () => {
  expect(backend.capabilities.info?.threads, 'a 2-thread wasm backend must start here').toBe(2);
  for (const shape of [
    [4096, 64],
    [16, 32, 600],
  ]) {
    nb.manualSeed(shape.length);
    const made = nb.withBackend(NAME, () => ({
      x: nb.randn(shape),
      dy: nb.randn(shape),
      w: nb.rand([shape[1]]),
      b: nb.randn([shape[1]]),
    }));
    const run = async (fused: boolean) => {
      const leaves = [made.x, made.w, made.b].map((t) => t.clone().detach());
      for (const l of leaves) l.requiresGrad = true;
      const o = nb.batchNormTrain(leaves[0], leaves[1], leaves[2], 1e-5, { relu: fused });
      const y = fused ? o.output : o.output.relu();
      nb.tidy(() => y.backward(made.dy));
      const got = await Promise.all([y, ...leaves.map((l) => l.grad!)].map(bits));
      for (const t of [y, o.output, o.mean, o.variance, ...leaves]) t.dispose();
      return got;
    };
    const [fused, plain] = [await run(true), await run(false)];
    ['output', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => {
      expect(fused[i], `[${shape}] ${name}`).toEqual(plain[i]);
    });
    for (const t of Object.values(made)) t.dispose();
  }
});
