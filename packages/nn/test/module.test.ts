/** Module mechanics: naming, recursion, sharing, ownership under tidy, init, Flatten. */
import { backends, useBackend } from '@nabla/conformance';
import { memory, ones, randn, tensor, tidy, zeros } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import {
  BatchNorm1d,
  Dropout,
  functional as F,
  Flatten,
  init,
  Linear,
  Module,
  ReLU,
  Sequential,
} from '../src/index.js';

const names = await backends();

describe.each(names)('Module on %s', (backend) => {
  it('Sequential is indexable, chains forward, and train/eval recurse', async () => {
    await useBackend(backend);
    const inner = new Sequential(new Linear(3, 3), new Dropout(0.5));
    const model = new Sequential(new Linear(4, 3), inner, new ReLU());
    expect(model.length).toBe(3);
    expect(model[1]).toBe(inner);
    expect(model.at(-1)).toBeInstanceOf(ReLU);
    expect(() => model.at(3)).toThrow('index 3 is out of range for Sequential of length 3');
    expect([...model].length).toBe(3);
    model.eval();
    expect(model.modules().every((m) => !m.training)).toBe(true);
    model.train();
    expect(inner.at(1).training).toBe(true);
    expect(model.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.0.weight', '1.0.bias']);
    const y = model.forward(ones([2, 4]));
    expect(y.shape).toEqual([2, 3]);
    model.dispose();
  });

  it('a shared layer appears once in parameters(); zeroGrad clears every grad', async () => {
    await useBackend(backend);
    const shared = new Linear(2, 2);
    const model = new Sequential(shared, new ReLU(), shared);
    expect(model.parameters().length).toBe(2);
    expect(model.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias']);
    model
      .forward(ones([3, 2]))
      .sum()
      .backward();
    expect(shared.weight.grad).not.toBeNull();
    model.zeroGrad();
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
    model.dispose();
  });

  it('parameters and buffers survive a tidy they were created in; forwards leave nothing behind', async () => {
    await useBackend(backend);
    const model = tidy(() => new Sequential(new Linear(4, 5), new BatchNorm1d(5), new ReLU()));
    expect(model.parameters().every((p) => !p.isDisposed && p.requiresGrad)).toBe(true);
    expect(model.buffers().every((b) => !b.isDisposed)).toBe(true);
    const x = randn([6, 4]);
    const before = memory().tensors;
    tidy(() => model.forward(x).sum().backward());
    model.zeroGrad();
    expect(memory().tensors).toBe(before);
    model.eval();
    tidy(() => void model.forward(x));
    expect(memory().tensors).toBe(before);
    model.dispose();
    x.dispose();
  });

  it('stateDict round-trips between two models', async () => {
    await useBackend(backend);
    const make = () => new Sequential(new Linear(3, 4), new BatchNorm1d(4));
    const a = make();
    const b = make();
    tidy(() => a.forward(randn([5, 3])));
    b.loadStateDict(a.stateDict());
    for (const [k, t] of Object.entries(a.stateDict())) {
      expect(Array.from(await b.stateDict()[k].data()), k).toEqual(Array.from(await t.data()));
    }
    expect(await b.stateDict()['1.num_batches_tracked'].item()).toBe(1);
    a.dispose();
    b.dispose();
  });

  it('a user subclass registers its own state and children', async () => {
    await useBackend(backend);
    class Net extends Module {
      readonly fc = this.registerModule('fc', new Linear(2, 1));
      readonly scale = this.registerParameter('scale', ones([1], { requiresGrad: true }))!;
      forward(x: ReturnType<typeof ones>) {
        return this.fc.forward(x).mul(this.scale);
      }
    }
    const net = new Net();
    expect(Object.keys(net.stateDict())).toEqual(['scale', 'fc.weight', 'fc.bias']);
    expect(net.toString()).toBe('Net(\n  (fc): Linear(in_features=2, out_features=1, bias=True)\n)');
    net.dispose();
  });

  it('init functions fill in place with the requested statistics', async () => {
    await useBackend(backend);
    const w = zeros([200, 100]);
    const stats = async () => {
      const d = Array.from(await w.data());
      const mean = d.reduce((s, v) => s + v, 0) / d.length;
      return {
        mean,
        std: Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length),
        max: Math.max(...d.map(Math.abs)),
      };
    };
    expect(init.xavierUniform(w)).toBe(w);
    let s = await stats();
    expect(s.max).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(s.std).toBeCloseTo(Math.sqrt(2 / 300), 2);
    init.kaimingNormal(w, { nonlinearity: 'relu' });
    s = await stats();
    expect(s.std / Math.sqrt(2 / 100)).toBeGreaterThan(0.97);
    expect(s.std / Math.sqrt(2 / 100)).toBeLessThan(1.03);
    init.normal(w, 3, 0.5);
    s = await stats();
    expect(s.mean).toBeCloseTo(3, 1);
    init.ones(w);
    expect((await stats()).std).toBe(0);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3);
    expect(() => init.xavierUniform(zeros([3]))).toThrow('fewer than 2 dimensions');
    w.dispose();
  });

  it('Flatten keeps the batch dim', async () => {
    await useBackend(backend);
    const y = new Flatten().forward(tensor(new Float32Array(24), { shape: [2, 3, 4] }));
    expect(y.shape).toEqual([2, 12]);
  });
});

describe.each(names)('functional on %s', (backend) => {
  it('F.batchNorm matches BatchNorm1d in training and eval, updating the given buffers in place', async () => {
    await useBackend(backend);
    const bn = new BatchNorm1d(3);
    const rm = zeros([3]);
    const rv = ones([3]);
    const x = randn([5, 3, 2]);
    const a = bn.forward(x);
    const b = F.batchNorm(x, { runningMean: rm, runningVar: rv, training: true, momentum: 0.1 });
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    expect(Array.from(await rm.data())).toEqual(Array.from(await bn.runningMean!.data()));
    expect(Array.from(await rv.data())).toEqual(Array.from(await bn.runningVar!.data()));
    bn.eval();
    const c = bn.forward(x);
    const d = F.batchNorm(x, { runningMean: rm, runningVar: rv, training: false });
    expect(Array.from(await d.data())).toEqual(Array.from(await c.data()));
    expect(() => F.batchNorm(x)).toThrow('running_mean and running_var are required when training is false');
    bn.dispose();
  });

  it('F.linear with a fused ReLU equals relu(linear)', async () => {
    await useBackend(backend);
    const x = randn([4, 5]);
    const w = randn([3, 5]);
    const bias = randn([3]);
    const fused = await F.linear(x, w, bias, { relu: true }).data();
    const plain = await F.relu(F.linear(x, w, bias)).data();
    expect(Array.from(fused)).toEqual(Array.from(plain).map((v) => expect.closeTo(v, 5)));
  });
});
