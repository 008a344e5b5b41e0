/** Memory scopes: tidy, keep, dispose, nested scopes, and the FinalizationRegistry safety net. */
import '@nabla/backend-cpu';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as nb from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(async () => {
  await nb.setBackend('cpu');
});

const live = () => nb.memory().tensors;

describe('tidy', () => {
  it('disposes what it made, except the returned tensor, array, object or Map values', () => {
    const before = live();
    const t = nb.tidy(() => nb.ones([2]).add(1).mul(3));
    expect(live() - before).toBe(1);
    const arr = nb.tidy(() => [nb.ones([1]), nb.zeros([1]).exp(), 5] as const);
    expect(live() - before).toBe(3);
    const obj = nb.tidy(() => ({ a: nb.ones([1]), nested: { b: [nb.ones([1]).neg()] }, n: 1 }));
    expect(live() - before).toBe(5);
    const map = nb.tidy(() => new Map([['m', nb.ones([3]).sqrt()]]));
    expect(live() - before).toBe(6);
    expect(t.dataSync()).toEqual(new Float32Array([6, 6]));
    for (const x of [t, arr[0], arr[1], obj.a, obj.nested.b[0], map.get('m')!]) x.dispose();
    expect(live()).toBe(before);
  });

  it('leaves tensors made outside alone, and keep() takes a tensor out of every scope', () => {
    const outside = nb.ones([2]);
    const before = live();
    let kept: nb.Tensor | null = null;
    nb.tidy(() => {
      outside.add(1);
      nb.tidy(() => {
        kept = nb.keep(outside.mul(2));
      });
      return undefined;
    });
    expect(live()).toBe(before + 1);
    expect(outside.isDisposed).toBe(false);
    expect(kept!.dataSync()).toEqual(new Float32Array([2, 2]));
    kept!.dispose();
    outside.dispose();
  });

  it('a nested tidy hands its result to the enclosing scope', () => {
    const before = live();
    let inner: nb.Tensor | null = null;
    nb.tidy(() => {
      inner = nb.tidy(() => nb.ones([2]).neg());
      expect(inner.isDisposed).toBe(false);
    });
    expect(inner!.isDisposed).toBe(true);
    expect(live()).toBe(before);
  });

  it('frees everything when the function throws', () => {
    const before = live();
    expect(() =>
      nb.tidy(() => {
        nb.ones([4]).exp();
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(live()).toBe(before);
    expect(nb.memory().bytes).toBeGreaterThanOrEqual(0);
  });

  it('returning a view keeps the storage alive; disposing the base does not free it', () => {
    const base = nb.tensor([
      [1, 2],
      [3, 4],
    ]);
    const v = nb.tidy(() => base.t());
    const bytes = nb.memory().bytes;
    base.dispose();
    expect(nb.memory().bytes).toBe(bytes);
    expect(v.dataSync()).toEqual(new Float32Array([1, 3, 2, 4]));
    v.dispose();
    expect(nb.memory().bytes).toBe(bytes - 16);
  });
});

describe('dispose', () => {
  it('frees once, is safe twice, and frees the gradient with the tensor', () => {
    const before = nb.memory();
    const x = nb.ones([3], { requiresGrad: true });
    nb.tidy(() => x.mul(2).sum().backward());
    expect(x.grad).not.toBeNull();
    expect(nb.memory().tensors).toBe(before.tensors + 2);
    x.dispose();
    x.dispose();
    expect(nb.memory().tensors).toBe(before.tensors);
    expect(nb.memory().bytes).toBe(before.bytes);
  });

  it('zeroGrad disposes the old gradient', () => {
    const x = nb.ones([3], { requiresGrad: true });
    nb.tidy(() => x.square().sum().backward());
    const g = x.grad!;
    x.zeroGrad();
    expect(x.grad).toBeNull();
    expect(g.isDisposed).toBe(true);
    x.dispose();
  });
});

describe('the FinalizationRegistry safety net', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** Drops what `make` creates, then checks the collector gives every byte back. */
  const expectCollected = async (make: () => void) => {
    await settle(); // collect anything earlier tests dropped, so the baseline is stable
    const before = nb.memory();
    make();
    const made = nb.memory();
    expect(made.tensors).toBeGreaterThan(before.tensors);
    for (let i = 0; i < 20 && nb.memory().tensors > before.tensors; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    const after = nb.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    expect(after.backends.cpu.bytes).toBe(before.backends.cpu.bytes);
    // memory().collected reports each release, and what it freed
    expect(after.collected).toEqual({
      tensors: before.collected.tensors + made.tensors - before.tensors,
      bytes: before.collected.bytes + made.bytes - before.bytes,
      buffers: before.collected.buffers + made.buffers - before.buffers,
    });
  };

  it('releases the memory of an unreachable, undisposed tensor', async () => {
    await expectCollected(() => {
      nb.zeros([1000]); // dropped without dispose
    });
  });

  // A tensor born inside a scope gets the net only when it leaves the last scope: check both ways out.
  it('releases a tensor returned from an outermost tidy and then dropped', async () => {
    await expectCollected(() => {
      nb.tidy(() => nb.zeros([1000]).add(1));
    });
  });

  it('releases a tensor kept inside a tidy and then dropped', async () => {
    await expectCollected(() => {
      nb.tidy(() => {
        nb.keep(nb.zeros([1000]));
      });
    });
  });

  // A node's saved tensors get the net when a tensor holding the node leaves every scope.
  it('releases a graph (its saved tensors) whose output is dropped without backward or dispose', async () => {
    const w = nb.tensor([0.5, -1, 2], { requiresGrad: true });
    await expectCollected(() => {
      nb.tidy(() => w.mul(w).exp().relu()); // saves w, exp's output and relu's output
    });
    await expectCollected(() => {
      w.mul(w).exp(); // made outside any scope: the net is armed as the graph is recorded
    });
    w.dispose();
  });

  it('releases a tensor returned through nested tidies and then dropped', async () => {
    await expectCollected(() => {
      nb.tidy(() => nb.tidy(() => nb.zeros([1000]).mul(2)));
    });
  });
});
