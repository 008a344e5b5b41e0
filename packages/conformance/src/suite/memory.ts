/** Memory accounting: exact alloc/dispose deltas, scopes, saved tensors, and a flat training loop. */
import * as nb from '@nabla/core';
import { held } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';

/** The totals as {@link held} counts them (steady across an `await`), and the backend's own report. */
function snapshot(name: string) {
  return { ...held(), backend: nb.memory().backends[name] };
}

/** Registers the memory cases for the backend named `name`. */
export function memorySuite(name: string): void {
  describe('memory', () => {
    it('alloc and dispose change memory() by exactly the tensor', () => {
      const before = snapshot(name);
      const a = nb.zeros([3, 4]);
      const i = nb.ones([5], { dtype: 'int32' });
      let now = snapshot(name);
      expect(now.tensors - before.tensors).toBe(2);
      expect(now.bytes - before.bytes).toBe(48 + 20);
      expect(now.buffers - before.buffers).toBe(2);
      const v = a.t(); // a view: one more tensor, no more bytes
      now = snapshot(name);
      expect(now.tensors - before.tensors).toBe(3);
      expect(now.bytes - before.bytes).toBe(68);
      a.dispose();
      expect(snapshot(name).bytes - before.bytes).toBe(68); // the view still holds the storage
      v.dispose();
      i.dispose();
      a.dispose(); // twice is safe
      now = snapshot(name);
      expect(now).toEqual({ ...before, backend: now.backend });
      expect(now.backend.bytes).toBeLessThanOrEqual(before.backend.bytes + 68); // pools may keep freed buffers
    });

    it('tidy frees intermediates, keeps what is returned or kept; backward frees saved tensors', async () => {
      const before = snapshot(name);
      let kept: nb.Tensor | null = null;
      const { out, list } = nb.tidy(() => {
        const a = nb.ones([4]);
        kept = nb.keep(a.mul(3));
        const nested = nb.tidy(() => a.add(1).exp());
        return { out: nested.sum(), list: [a.neg()] };
      });
      expect(snapshot(name).tensors - before.tensors).toBe(3);
      expect(await out.item()).toBeCloseTo(4 * Math.exp(2), 3);
      for (const t of [out, list[0], kept!]) t.dispose();
      expect(snapshot(name).tensors).toBe(before.tensors);
      expect(snapshot(name).bytes).toBe(before.bytes);

      const w = nb.randn([3, 3], { requiresGrad: true });
      const base = snapshot(name);
      const loss = nb.tidy(() => w.matmul(w).tanh().sum());
      expect(snapshot(name).tensors).toBeGreaterThan(base.tensors + 1); // saved for backward
      loss.backward();
      loss.dispose();
      expect(snapshot(name).tensors).toBe(base.tensors + 1); // only w.grad remains
      w.dispose();
      expect(snapshot(name).tensors).toBe(before.tensors);
      expect(snapshot(name).bytes).toBe(before.bytes);
    });

    it('a disposed tensor is reported, not read', async () => {
      const t = nb.ones([2]);
      t.dispose();
      expect(t.isDisposed).toBe(true);
      expect(() => t.add(1)).toThrow('add: tensor was disposed');
      await expect(t.data()).rejects.toThrow('data: tensor was disposed');
    });

    it('300 tidy training steps keep memory() flat', async () => {
      nb.manualSeed(99);
      const w1 = nb.randn([8, 4], { std: 0.5 });
      const b1 = nb.zeros([8]);
      const w2 = nb.randn([3, 8], { std: 0.5 });
      const params = [w1, b1, w2];
      for (const p of params) p.requiresGrad = true;
      const moms = params.map((p) => nb.zerosLike(p));
      const x = nb.randn([16, 4]);
      const y = nb.randint(0, 3, [16]);
      let marks: ReturnType<typeof snapshot> | null = null;
      let first = 0;
      let last = 0;
      for (let step = 0; step < 300; step++) {
        const loss = nb.tidy(() => {
          const h = nb.linear(x, w1, b1, { relu: true });
          const l = nb.softmaxCrossEntropy(nb.linear(h, w2, null), y).mean();
          l.backward();
          // SGD with momentum 0.9, lr 0.1, in place (the rule itself is @nabla/optim's).
          nb.noGrad(() =>
            params.forEach((p, i) => {
              moms[i].assign(step === 0 ? p.grad! : moms[i].mul(0.9).add(p.grad!));
              p.assign(p.sub(moms[i].mul(0.1)));
              p.zeroGrad();
            }),
          );
          return l;
        });
        if (step === 0) first = await loss.item();
        if (step === 299) last = await loss.item();
        loss.dispose();
        if (step === 5) marks = snapshot(name);
      }
      const end = snapshot(name);
      expect(end.tensors).toBe(marks!.tensors);
      expect(end.bytes).toBe(marks!.bytes);
      expect(end.buffers).toBe(marks!.buffers);
      expect(end.backend.bytes).toBeLessThanOrEqual(marks!.backend.bytes);
      expect(last).toBeLessThan(first * 0.5); // and it actually trained
      for (const t of [...params, ...moms, x, y]) t.dispose();
    });
  });
}
