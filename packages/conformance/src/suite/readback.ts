/** Creation, readback (data, dataSync, array, item), toString, moves between backends, capabilities. */
import * as nb from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { ensureCpu, registerCpuAlias } from '../backends.js';
import * as R from '../ref.js';
import { assertClose, check, EXACT } from './util.js';

/** Registers the creation and readback cases for the backend named `name`. */
export function readbackSuite(name: string): void {
  describe('creation and readback', () => {
    it('reports its capabilities (fallbacks printed for the record)', () => {
      const b = nb.getBackend();
      expect(b.name).toBe(name);
      const caps = b.capabilities;
      console.log(
        `[conformance] backend '${name}': fused=[${nb.fusedKernels(b).join(', ')}] readSync=${caps.readSync} fallbacks=${JSON.stringify(caps.fallbacks)} info=${JSON.stringify(caps.info ?? {})}`,
      );
      expect(Array.isArray(caps.fallbacks)).toBe(true);
      for (const f of caps.fallbacks) {
        expect(typeof f.kernel).toBe('string');
        expect(typeof f.to).toBe('string');
        expect(f.reason.length).toBeGreaterThan(0);
      }
      expect(caps.readSync).toBe(typeof b.readSync === 'function');
      // every entry of the kernel table is a function (an absent optional kernel is a missing key)
      for (const [k, fn] of Object.entries(b.kernels)) expect(typeof fn, `kernels.${k}`).toBe('function');
      for (const k of ['pointwise', 'fill', 'reduce', 'matmul', 'gather', 'scatterAdd'] as const)
        expect(typeof b.kernels[k], `required kernel ${k}`).toBe('function');
    });

    it('creation functions', async () => {
      await check(() => nb.zeros([2, 3]), R.ref([2, 3], [0, 0, 0, 0, 0, 0]), EXACT, 'zeros', 'float32');
      await check(() => nb.ones([2], { dtype: 'int32' }), R.ref([2], [1, 1]), EXACT, 'ones int32', 'int32');
      await check(() => nb.full([], -2.5), R.ref([], [-2.5]), EXACT, 'full scalar');
      await check(() => nb.full([0, 4], 3), R.ref([0, 4], []), EXACT, 'full zero-size');
      await check(() => nb.arange(5), R.ref([5], [0, 1, 2, 3, 4]), EXACT, 'arange(5)', 'int32');
      await check(
        () => nb.arange(1, 2, 0.25),
        R.ref([4], [1, 1.25, 1.5, 1.75]),
        EXACT,
        'arange float',
        'float32',
      );
      await check(() => nb.arange(5, 0, -2), R.ref([3], [5, 3, 1]), EXACT, 'arange down', 'int32');
      await check(() => nb.eye(2, 3), R.ref([2, 3], [1, 0, 0, 0, 1, 0]), EXACT, 'eye');
      await check(() => nb.tensor([[true, false]]), R.ref([1, 2], [1, 0]), EXACT, 'booleans');
      await check(
        () => nb.tensor(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] }),
        R.ref([2, 2], [1, 2, 3, 4]),
        EXACT,
        'typed array',
        'int32',
      );
      await check(() => nb.tensor([]), R.ref([0], []), EXACT, 'empty');
    });

    it('random draws are seeded and identical to the cpu backend', async () => {
      await ensureCpu();
      nb.manualSeed(1234);
      const a = [nb.rand([50]), nb.randn([51]), nb.randint(-3, 4, [40]), nb.uniform([10], 2, 3)];
      nb.manualSeed(1234);
      const cpuValues = [
        nb.rand([50], { backend: 'cpu' }),
        nb.randn([51], { backend: 'cpu' }),
        nb.randint(-3, 4, [40], { backend: 'cpu' }),
        nb.uniform([10], 2, 3, { backend: 'cpu' }),
      ];
      for (let i = 0; i < a.length; i++)
        assertClose(await a[i].data(), await cpuValues[i].data(), EXACT, `draw ${i}`);
      const u = await a[0].data();
      expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...u)).toBeLessThan(1);
      const ints = await a[2].data();
      expect(a[2].dtype).toBe('int32');
      expect(ints.every((v) => v >= -3 && v < 4)).toBe(true);
      for (const t of [...a, ...cpuValues]) t.dispose();
    });

    it('data, dataSync, array, item on contiguous tensors and views', async () => {
      const t = nb.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const tt = t.t();
      expect([...(await t.data())]).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await t.data()) instanceof Float32Array).toBe(true);
      expect([...(await tt.data())]).toEqual([1, 4, 2, 5, 3, 6]);
      expect(await tt.array()).toEqual([
        [1, 4],
        [2, 5],
        [3, 6],
      ]);
      expect(await nb.tensor([7], { dtype: 'int32' }).reshape([]).array()).toBe(7);
      expect(await nb.zeros([2, 0]).array()).toEqual([[], []]);
      expect(await t.slice(1, 2).slice(0, 1).item()).toBe(6);
      const copy = await t.data();
      copy[0] = 100; // a copy: writing to it does not touch the tensor
      expect((await t.data())[0]).toBe(1);
      const b = nb.getBackend();
      if (b.capabilities.readSync) {
        expect([...tt.dataSync()]).toEqual([1, 4, 2, 5, 3, 6]);
        expect(t.arraySync()).toEqual([
          [1, 2, 3],
          [4, 5, 6],
        ]);
        expect(t.sum().itemSync()).toBe(21);
      } else {
        expect(() => t.dataSync()).toThrow(
          `dataSync: the '${b.name}' backend cannot read synchronously; use \`await t.data()\` instead`,
        );
      }
      await expect(t.item()).rejects.toThrow(
        'item: a Tensor with 6 elements cannot be converted to a scalar',
      );
      const s = String(
        nb.tensor(
          [
            [1.5, 2],
            [3, 4],
          ],
          { requiresGrad: true },
        ),
      );
      expect(s).toContain('shape=[2, 2], dtype=float32');
      expect(s).toContain(`backend=${name}`);
      if (b.capabilities.readSync) expect(s).toContain('[[1.5, 2.],');
      t.dispose();
    });

    it('to() and toAsync() move tensors between backends; mixing backends throws naming both', async () => {
      const other = name === 'cpu' ? 'cpu-conformance' : 'cpu';
      if (other === 'cpu') await ensureCpu();
      else await registerCpuAlias(other);
      const x = nb
        .tensor([
          [1, 2],
          [3, 4],
        ])
        .t();
      const moved = await x.toAsync(other);
      expect(moved.backend).toBe(other);
      expect([...(await moved.data())]).toEqual([1, 3, 2, 4]);
      const back = moved.to(name); // cpu can read synchronously
      expect(back.backend).toBe(name);
      expect(await back.array()).toEqual([
        [1, 3],
        [2, 4],
      ]);
      if (nb.getBackend().capabilities.readSync)
        expect(nb.tidy(() => [...x.to(other).dataSync()])).toEqual([1, 3, 2, 4]);
      else {
        const live = nb.memory().tensors;
        expect(() => x.to(other)).toThrow(
          `to: the '${name}' backend cannot read synchronously; use \`await t.toAsync('${other}')\` instead`,
        );
        expect(nb.memory().tensors).toBe(live);
      }
      expect(x.to(name)).toBe(x);
      expect(() => x.add(moved)).toThrow(`add: tensors are on different backends, '${name}' and '${other}'`);
      expect(() => x.matmul(moved)).toThrow(`'${name}' and '${other}'`);
      for (const t of [x, moved, back]) t.dispose();
    });
  });
}
