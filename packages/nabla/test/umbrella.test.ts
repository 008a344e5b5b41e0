import { execFileSync } from 'node:child_process';
import {
  BatchNorm1d,
  getBackend,
  initBackend,
  Linear,
  listBackends,
  memory,
  nn,
  optim,
  randn,
  SGD,
  setBackend,
  tensor,
  tidy,
} from 'nabla';
import { describe, expect, it } from 'vitest';

describe('nabla umbrella package', () => {
  it('re-exports nn and optim both by name and as namespaces', () => {
    expect(nn.Linear).toBe(Linear);
    expect(nn.BatchNorm1d).toBe(BatchNorm1d);
    expect(optim.SGD).toBe(SGD);
  });

  it('registers cpu, wasm and webgpu on import, in priority order', () => {
    expect(listBackends()).toEqual(['wasm', 'cpu', 'webgpu']);
  });

  it('loads a backend on first setBackend and keeps one instance', async () => {
    const first = await setBackend('cpu');
    expect(first.name).toBe('cpu');
    // The backend package registered itself while loading; the registry must still hand out
    // the instance that is active, not start a second one.
    expect(await setBackend('cpu')).toBe(first);
    expect(await initBackend('cpu')).toBe(first);
    expect(getBackend()).toBe(first);
    const t = tensor([1, 2, 3]);
    expect(memory().backends.cpu).toBeDefined();
    t.dispose();
  });

  it('trains a tiny model through the umbrella exports', async () => {
    await setBackend('cpu');
    const model = new nn.Sequential(new nn.Linear(3, 8), new nn.ReLU(), new nn.Linear(8, 1));
    const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
    const x = randn([16, 3]);
    const y = tidy(() => x.sum(1, true));
    const step = () =>
      tidy(() => {
        opt.zeroGrad();
        const loss = model.forward(x).sub(y).square().mean();
        loss.backward();
        opt.step();
        return loss.dataSync()[0];
      });
    const before = step();
    for (let i = 0; i < 50; i++) step();
    expect(step()).toBeLessThan(before * 0.5);
  });

  it('loads wasm lazily and computes the same matmul as cpu', async () => {
    const wasm = await setBackend('wasm');
    expect(wasm.name).toBe('wasm');
    expect(await setBackend('wasm')).toBe(wasm);
    const y = tensor([
      [1, 2],
      [3, 4],
    ]).matmul(tensor([[1], [1]]));
    expect(y.backend).toBe('wasm');
    expect(Array.from(await y.data())).toEqual([3, 7]);
    y.dispose();
    await setBackend('cpu');
  });

  it('works from CommonJS (require) with the backend loaded through require', () => {
    const script = `
      const n = require('nabla');
      n.setBackend('cpu').then(async () => {
        const t = n.tensor([[1, 2], [3, 4]]).sum();
        process.stdout.write(JSON.stringify({ v: await t.item(), same: n.getBackend() === (await n.initBackend('cpu')) }));
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ v: 10, same: true });
  });
});
