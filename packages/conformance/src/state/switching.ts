/**
 * `setBackend` without races (issue 19 item 2): the last call wins however long each backend
 * takes to start, and two interleaved training loops each run entirely where they were told.
 */
import * as nb from '@nabla/core';
import * as nn from '@nabla/nn';
import { SGD } from '@nabla/optim';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerCpuAlias } from '../backends.js';

const OTHER = 'cpu-other';
const SLOW = 'cpu-slow-start';

/** Counts buffer allocations on a backend instance (every op's output is one). */
function countAllocations(backend: nb.Backend): { count: number } {
  const counter = { count: 0 };
  const original = backend.alloc.bind(backend);
  Object.defineProperty(backend, 'alloc', {
    configurable: true,
    value: (size: number, dtype: nb.DType) => {
      counter.count++;
      return original(size, dtype);
    },
  });
  return counter;
}

/** Registers the backend-switching cases; `name` is the backend under test. */
export function switchingSuite(name: string): void {
  describe('setBackend: ordered, and ops run on their tensors’ backend', () => {
    beforeAll(async () => {
      await registerCpuAlias(OTHER);
      if (!nb.listBackends().includes(SLOW)) {
        const { createCpuBackend } = await import('@nabla/backend-cpu');
        nb.registerBackend(SLOW, async () => {
          await new Promise((r) => setTimeout(r, 30)); // starts later than a call made after it
          return Object.create(createCpuBackend(), { name: { value: SLOW } }) as nb.Backend;
        });
      }
    });

    it('the last call wins, even when an earlier backend finishes starting later', async () => {
      await Promise.all([nb.setBackend(SLOW), nb.setBackend(name)]);
      expect(nb.getBackend().name).toBe(name);
      await Promise.all([nb.setBackend(name), nb.setBackend(OTHER)]);
      expect(nb.getBackend().name).toBe(OTHER);
      const made = nb.withBackend(name, () => nb.zeros([1]));
      expect(made.backend).toBe(name);
      made.dispose();
      expect(nb.getBackend().name).toBe(OTHER); // restored
      await nb.setBackend(name);
    });

    it('two interleaved training loops on two backends each run where they were told', async () => {
      const allocations: Record<string, { count: number }> = {};
      for (const n of [name, OTHER]) allocations[n] = countAllocations(await nb.initBackend(n));
      const loop = async (own: string, seed: number, steps: number) => {
        await nb.setBackend(own);
        // Created under withBackend: synchronous, so the other task cannot switch in between.
        const { model, x, y, opt } = nb.withBackend(own, () => {
          nb.manualSeed(seed);
          const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
          const x = nb.randn([6, 4]);
          const y = nb.randint(0, 2, [6]);
          return { model, x, y, opt: new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) };
        });
        const mine = allocations[own];
        const theirs = allocations[own === name ? OTHER : name];
        const losses: number[] = [];
        for (let s = 0; s < steps; s++) {
          const before = mine.count;
          const theirsBefore = theirs.count;
          const l = nb.tidy(() => {
            opt.zeroGrad();
            const l = nn.functional.crossEntropy(model.forward(x), y);
            l.backward();
            opt.step();
            return l;
          });
          expect(mine.count).toBeGreaterThan(before); // the step's kernels allocated here
          expect(theirs.count).toBe(theirsBefore); // and nothing on the other backend
          expect(l.backend).toBe(own);
          losses.push(await l.item()); // the other loop runs (and switches the active backend) here
          l.dispose();
          await nb.setBackend(own); // what a racing user writes: each task re-activates its own
        }
        for (const p of model.parameters()) expect(p.backend).toBe(own);
        const result = {
          losses,
          params: await Promise.all(model.parameters().map(async (p) => Array.from(await p.data()))),
        };
        model.dispose();
        opt.dispose();
        x.dispose();
        y.dispose();
        return result;
      };
      const [a, b] = await Promise.all([loop(name, 11, 6), loop(OTHER, 12, 6)]);
      // Each loop alone gives the same numbers: nothing of one ran on the other's backend.
      const aloneA = await loop(name, 11, 6);
      const aloneB = await loop(OTHER, 12, 6);
      expect(a).toEqual(aloneA);
      expect(b).toEqual(aloneB);
      await nb.setBackend(name);
    });
  });
}
