/** A long training loop holds flat memory: nothing leaks per step. */
import { backends, useBackend } from '@nabla/conformance';
import { randint, randn, tidy } from '@nabla/core';
import { BatchNorm1d, CrossEntropyLoss, Linear, ReLU, Sequential } from '@nabla/nn';
import { held } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { Adam, SGD } from '../src/index.js';

const names = await backends();

describe.each(names)('training-loop memory on %s', (backend) => {
  it('2000 steps (SGD with momentum on the first layers, Adam with amsgrad on the last): same tensors and bytes after step 10 and step 2000', async () => {
    await useBackend(backend);
    // held(), not memory(): the loop awaits its reads, when the collector may free leftovers
    const start = held();
    const head = new Linear(8, 3);
    const model = new Sequential(new Linear(4, 8), new BatchNorm1d(8), new ReLU(), head);
    // Two optimizers over disjoint parameters, so one loop exercises both kinds of state.
    const headParams = new Set(head.parameters());
    const sgd = new SGD(
      model.parameters().filter((p) => !headParams.has(p)),
      { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
    );
    const adam = new Adam(head.parameters(), { lr: 1e-2, amsgrad: true });
    const lossFn = new CrossEntropyLoss();
    const x = randn([8, 4]);
    const y = randint(0, 3, [8]);
    let at10 = held();
    let first = 0;
    let last = 0;
    for (let step = 1; step <= 2000; step++) {
      const loss = tidy(() => {
        sgd.zeroGrad();
        adam.zeroGrad();
        const l = lossFn.forward(model.forward(x), y);
        l.backward();
        sgd.step();
        adam.step();
        return l;
      });
      if (step === 1) first = await loss.item();
      if (step === 2000) last = await loss.item();
      loss.dispose();
      if (step === 10) at10 = held();
    }
    const at2000 = held();
    expect(at2000.tensors).toBe(at10.tensors);
    expect(at2000.bytes).toBe(at10.bytes);
    expect(last).toBeLessThan(first); // it did train
    sgd.dispose();
    adam.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
    // Module and optimizers free everything they own.
    expect(held().tensors).toBe(start.tensors);
    expect(held().bytes).toBe(start.bytes);
  }, 180_000); // software WebGPU (SwiftShader) takes ~20 ms a step
});
