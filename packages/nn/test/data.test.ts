/** TensorDataset and DataLoader: batching, shuffling by seed, dropLast, and ownership of batches. */
import { backends, useBackend } from '@nabla/conformance';
import { memory, tensor } from '@nabla/core';
import { held } from '@nabla/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { DataLoader, TensorDataset } from '../src/index.js';

const names = await backends();

async function epoch(loader: DataLoader): Promise<number[][]> {
  const out: number[][] = [];
  for (const [xb, yb] of loader) {
    const xs = [...(await xb.data())];
    const ys = [...(await yb.data())];
    // Row i of x is [2i, 2i + 1] and y is i: the pairs stay together.
    for (const [k, y] of ys.entries()) expect([xs[2 * k], xs[2 * k + 1]]).toEqual([2 * y, 2 * y + 1]);
    out.push(ys);
  }
  return out;
}

/** Tests free what they make (the `afterAll` below checks that the file leaves no tensor). */
function disposeDataset(ds: TensorDataset): void {
  for (const t of ds.tensors) t.dispose();
}

describe.each(names)('DataLoader on %s', (backend) => {
  const make = () => {
    const x = tensor(new Float32Array(Array.from({ length: 20 }, (_, i) => i)), { shape: [10, 2] });
    const y = tensor(new Int32Array(Array.from({ length: 10 }, (_, i) => i)), {
      shape: [10],
      dtype: 'int32',
    });
    return new TensorDataset(x, y);
  };

  it('batches in order, the last one smaller unless dropLast', async () => {
    await useBackend(backend);
    const ds = make();
    const loader = new DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    expect(await epoch(loader)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    const dropping = new DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(dropping.length).toBe(2);
    expect((await epoch(dropping)).length).toBe(2);
    disposeDataset(ds);
  });

  it('shuffles every epoch; the same seed gives the same orders', async () => {
    await useBackend(backend);
    const ds = make();
    const a = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 7 });
    const b = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 7 });
    const a1 = await epoch(a);
    const a2 = await epoch(a);
    expect(await epoch(b)).toEqual(a1);
    expect(await epoch(b)).toEqual(a2);
    expect(a1.flat()).not.toEqual(a2.flat());
    expect([...a1.flat()].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await epoch(new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 8 }))).not.toEqual(a1);
    disposeDataset(ds);
  });

  it('disposes every batch it made, also after break', async () => {
    await useBackend(backend);
    const ds = make();
    const before = held().tensors; // not memory(): the epoch awaits
    await epoch(new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 1 }));
    expect(held().tensors).toBe(before);
    for (const [xb] of new DataLoader(ds, { batchSize: 4 })) {
      expect(xb.shape).toEqual([4, 2]);
      break;
    }
    expect(held().tensors).toBe(before);
    disposeDataset(ds);
  });

  it("PyTorch's errors", async () => {
    await useBackend(backend);
    const a = tensor([1, 2]);
    const b = tensor([1, 2, 3]);
    expect(() => new TensorDataset(a, b)).toThrow('Size mismatch between tensors');
    const ds = make();
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(
      'batch_size should be a positive integer value',
    );
    for (const t of [a, b]) t.dispose();
    disposeDataset(ds);
  });
});

// every test disposes what it made: none is left to the garbage collector's safety net
afterAll(() => {
  expect(memory().tensors).toBe(0);
});
