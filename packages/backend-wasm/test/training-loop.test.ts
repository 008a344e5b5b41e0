import * as nb from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { registerWasm } from './helpers.js';

describe('a training loop on wasm', () => {
  const wasm = registerWasm({ threads: 2 });

  it('2,000 steps of linear → batch norm → ReLU → linear → cross-entropy keep memory flat and learn', () => {
    nb.manualSeed(7);
    const x = nb.randn([32, 16]);
    const y = nb.randint(0, 4, [32]);
    const w1 = nb.randn([24, 16], { std: 0.3 });
    const b1 = nb.zeros([24]);
    const g = nb.ones([24]);
    const bt = nb.zeros([24]);
    const w2 = nb.randn([4, 24], { std: 0.3 });
    const b2 = nb.zeros([4]);
    const params = [w1, b1, g, bt, w2, b2];
    for (const p of params) p.requiresGrad = true;
    const bufs = params.map((p) => nb.zeros([...p.shape]));
    const lossAt = (step: number) =>
      nb.tidy(() => {
        for (const p of params) p.zeroGrad();
        const h = nb.linear(x, w1, b1);
        const { output } = nb.batchNormTrain(h, g, bt, 1e-5);
        const logits = nb.linear(output.relu(), w2, b2);
        const loss = nb.softmaxCrossEntropy(logits, y).mean();
        loss.backward();
        // SGD with momentum 0.9 and lr 0.05 (PyTorch's rule; the buffer starts as the gradient).
        params.forEach((p, i) => {
          const buf = bufs[i] as nb.Tensor;
          const grad = p.grad as nb.Tensor;
          buf.assign(step === 0 ? grad : buf.mul(0.9).add(grad));
          p.assign(p.sub(buf.mul(0.05)));
        });
        return loss.dataSync()[0] as number;
      });
    const first = lossAt(0);
    for (let s = 1; s < 20; s++) lossAt(s);
    const mem = nb.memory();
    const heap = wasm.be.heapBytes;
    let last = first;
    for (let s = 20; s < 2000; s++) last = lossAt(s);
    expect(nb.memory().tensors).toBe(mem.tensors);
    expect(nb.memory().bytes).toBe(mem.bytes);
    expect(wasm.be.memory()).toEqual(mem.backends.wasm);
    expect(wasm.be.heapBytes).toBe(heap); // the allocator reuses blocks: linear memory does not creep
    expect(last).toBeLessThan(first * 0.2);
  });
});
