/** PyTorch's version counter: a saved tensor written in place makes backward() refuse to run. */
import * as nb from '@nabla/core';
import { SGD } from '@nabla/optim';
import { describe, expect, it } from 'vitest';
import { expectNoChange } from './unchanged.js';

const modified = (shape: string, op: string, now: number, expected: number) =>
  'backward: one of the variables needed for gradient computation has been modified by an inplace ' +
  `operation: [float32 ${shape}], which is saved by '${op}', is at version ${now}; expected version ${expected} instead.`;

/** Registers the version-counter cases (the active backend runs them). */
export function versionSuite(): void {
  describe('version counter (in-place writes after a forward pass)', () => {
    it('opt.step() between forward and backward is refused, naming the op and shape', async () => {
      const w = nb.tensor([[1, 2, 3, 4]], { requiresGrad: true }); // [1, 4]
      const x = nb.tensor([[3], [4], [5], [6]], { requiresGrad: true }); // [4, 1]
      const loss = w.matmul(x).sum();
      nb.tidy(() => w.square().sum().backward()); // gives w a gradient
      const opt = new SGD([w], { lr: 0.5 });
      expect(w.version).toBe(0);
      opt.step(); // writes w in place: version 1
      expect(w.version).toBe(1);
      const before = await w.data();
      await expectNoChange([w, x], () => loss.backward(), modified('[1, 4]', 'matmul', 1, 0));
      expect(Array.from(await w.data())).toEqual(Array.from(before));
      expect(x.grad).toBeNull(); // nothing was accumulated
      for (const t of [loss, w, x]) t.dispose();
    });

    it('assign() on a saved tensor is refused; an unrelated assign and retainGraph still work', async () => {
      const a = nb.tensor([1, 2, 3], { requiresGrad: true });
      const h = a.mul(2);
      const y = h.mul(h).sum(); // saves h twice
      nb.noGrad(() => nb.tidy(() => h.assign(nb.tensor([100, 100, 100]))));
      expect(h.version).toBe(1);
      await expectNoChange([a], () => y.backward(), modified('[3]', 'mul', 1, 0));

      const b = nb.tensor([3, 4], { requiresGrad: true });
      const other = nb.zeros([2]);
      const z = b.mul(b).sum();
      nb.tidy(() => other.assign(nb.ones([2]))); // not saved by z's graph
      z.backward(undefined, { retainGraph: true });
      expect(Array.from(await b.grad!.data())).toEqual([6, 8]);
      for (const t of [a, h, y, b, other, z]) t.dispose();
    });
  });
}
